using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>timm's Mlp with use_conv=True: 1x1 convolutions on an NCHW map (the conv_mlp ConvNeXt variants).</summary>
public sealed class ConvMlp : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d fc1;
    public readonly Conv2d fc2;

    public ConvMlp(long features, long hiddenFeatures) : base(nameof(ConvMlp))
    {
        fc1 = new Conv2d(features, hiddenFeatures, kernelSize: 1);
        fc2 = new Conv2d(hiddenFeatures, features, kernelSize: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(nn.functional.gelu(fc1.forward(x))).MoveToOuterDisposeScope();
    }
}
