using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models;

/// <summary>
/// What the four timm families share: timm's forward_features / forward_head split, so that the fastai body
/// can take the feature map (ConvNeXt) or timm's own pooled features (ViT, Swin, SwinV2).
/// With numClasses 0 a model has no classifier (timm's num_classes=0).
/// </summary>
public abstract class TimmModel : nn.Module<Tensor, Tensor>
{
    protected TimmModel(string name) : base(name) { }

    /// <summary>Width of the pooled features (timm's num_features).</summary>
    public abstract long NumFeatures { get; }

    /// <summary>True when fastai pools the body's output itself (the timm config has pool_size and the
    /// features are an NCHW map, as for ConvNeXt); false when the body is timm's pooled pre-logits.</summary>
    public abstract bool FastaiPoolsFeatures { get; }

    public abstract Tensor forward_features(Tensor x);

    public abstract Tensor forward_head(Tensor features, bool preLogits = false);

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return forward_head(forward_features(x)).MoveToOuterDisposeScope();
    }
}
