using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>
/// timm's Mlp: fc1, exact GELU, fc2 (dropout and norm are identities in every model here). With useConv (timm's
/// use_conv=True, the conv_mlp ConvNeXt variants) fc1 and fc2 are 1x1 convolutions on an NCHW map; otherwise
/// Linears on the last dimension.
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    public readonly nn.Module<Tensor, Tensor> fc1;
    public readonly nn.Module<Tensor, Tensor> fc2;

    public Mlp(long features, long hiddenFeatures, bool useConv = false) : base(nameof(Mlp))
    {
        fc1 = useConv ? new Conv2d(features, hiddenFeatures, kernelSize: 1) : new Linear(features, hiddenFeatures);
        fc2 = useConv ? new Conv2d(hiddenFeatures, features, kernelSize: 1) : new Linear(hiddenFeatures, features);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(nn.functional.gelu(fc1.forward(x))).MoveToOuterDisposeScope();
    }
}
