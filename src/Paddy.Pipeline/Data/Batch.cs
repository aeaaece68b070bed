using static TorchSharp.torch;

namespace Paddy.Pipeline.Data;

/// <summary>One mini-batch on the training device: images as float [B,3,H,W] ready for the model, targets as int64 [B].</summary>
public sealed class Batch : IDisposable
{
    public Batch(Tensor images, Tensor targets)
    {
        Images = images;
        Targets = targets;
    }

    public Tensor Images { get; }
    public Tensor Targets { get; }
    public long Size => Targets.shape[0];

    public void Dispose()
    {
        Images.Dispose();
        Targets.Dispose();
    }
}

/// <summary>
/// A source of mini-batches. Each call to <see cref="Epoch"/> enumerates one pass; all of its randomness
/// (shuffle order, augmentation) is a function of the loader's seed and the epoch number, so that a resumed
/// run sees exactly the batches an uninterrupted one would.
/// </summary>
public interface IBatchLoader
{
    int ItemCount { get; }
    int BatchSize { get; }
    int BatchesPerEpoch { get; }
    IEnumerable<Batch> Epoch(int epoch);
}
