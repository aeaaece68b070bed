using Paddy.Pipeline.Device;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Callbacks;

/// <summary>
/// fastai's GatherPredsCallback for <see cref="Learner.GetPreds"/>: each batch's softmax probabilities and targets,
/// on the CPU. Runs after <see cref="MixedPrecision"/> has cast the predictions to float32 and left autocast.
/// </summary>
internal sealed class GatherPredictions : Callback
{
    public override int Order => MixedPrecision.MixedPrecisionOrder + 10;

    public List<Tensor> Probabilities { get; } = [];

    public List<Tensor> Targets { get; } = [];

    public override void AfterLoss()
    {
        Probabilities.Add(nn.functional.softmax(Autocast.ToFloat32(Learner.Predictions!), 1).cpu().MoveToOuterDisposeScope());
        Targets.Add(Learner.Batch!.Targets.detach().cpu().MoveToOuterDisposeScope());
    }
}
