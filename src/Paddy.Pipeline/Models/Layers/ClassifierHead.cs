using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>timm's ClassifierHead for NHWC features: average over H and W (pre-logits), then fc (absent for 0 classes).</summary>
public sealed class ClassifierHead : nn.Module<Tensor, Tensor>
{
    public readonly Linear? fc;

    public ClassifierHead(long numFeatures, int numClasses) : base(nameof(ClassifierHead))
    {
        NumFeatures = numFeatures;
        if (numClasses > 0) fc = new Linear(numFeatures, numClasses);
        RegisterComponents();
    }

    public long NumFeatures { get; }

    public override Tensor forward(Tensor features) => forward(features, preLogits: false);

    public Tensor forward(Tensor features, bool preLogits)
    {
        using var scope = NewDisposeScope();
        var pooled = features.mean([1, 2]);
        var result = preLogits || fc is null ? pooled : fc.forward(pooled);
        return result.MoveToOuterDisposeScope();
    }
}
