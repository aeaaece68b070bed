using Paddy.Pipeline.Data;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Benchmarks.TrainStep;

/// <summary>
/// The same random batch, already on the device, handed out <paramref name="batchesPerEpoch"/> times per epoch: the
/// benchmark measures the training step, not decoding or augmentation (the PyTorch side does the same). Each batch
/// is a pair of aliases, since the learner disposes what it is given.
/// </summary>
public sealed class SyntheticBatches(Tensor images, Tensor targets, int batchesPerEpoch) : IBatchLoader, IDisposable
{
    public int ItemCount => batchesPerEpoch * BatchSize;
    public int BatchSize => (int)targets.shape[0];
    public int BatchesPerEpoch => batchesPerEpoch;

    public IEnumerable<Batch> Epoch(int epoch)
    {
        for (var i = 0; i < batchesPerEpoch; i++) yield return new Batch(images.alias(), targets.alias());
    }

    public void Dispose()
    {
        images.Dispose();
        targets.Dispose();
    }
}
