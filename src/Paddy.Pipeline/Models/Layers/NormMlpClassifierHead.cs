using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>timm's NormMlpClassifierHead without hidden layer: average pool, LayerNorm2d, flatten, fc (absent for 0 classes).</summary>
public sealed class NormMlpClassifierHead : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm2d norm;
    public readonly Linear? fc;

    public NormMlpClassifierHead(long features, int numClasses, double eps) : base(nameof(NormMlpClassifierHead))
    {
        norm = new LayerNorm2d(features, eps);
        if (numClasses > 0) fc = new Linear(features, numClasses);
        RegisterComponents();
    }

    public override Tensor forward(Tensor features) => forward(features, preLogits: false);

    public Tensor forward(Tensor features, bool preLogits)
    {
        using var scope = NewDisposeScope();
        var pooled = norm.forward(nn.functional.adaptive_avg_pool2d(features, 1)).flatten(1);
        var result = preLogits || fc is null ? pooled : fc.forward(pooled);
        return result.MoveToOuterDisposeScope();
    }
}
