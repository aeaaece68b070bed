using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models;

/// <summary>timm's weight initialisers.</summary>
public static class TimmInit
{
    /// <summary>
    /// timm's trunc_normal_(std) with its absolute bounds [-2, 2]. TorchSharp 0.107's nn.init.trunc_normal_
    /// leaves every element equal (measured: standard deviation 0), so we draw a normal and clamp: for the small
    /// standard deviations timm uses (0.02) the bounds lie beyond 100 sigma, where the two agree.
    /// </summary>
    public static void TruncatedNormal(Tensor tensor, double std)
    {
        using var noGrad = no_grad();
        nn.init.normal_(tensor, 0, std);
        tensor.clamp_(-2, 2);
    }

    /// <summary>
    /// timm's _init_weights for its transformers (ViT's init_weights_vit_timm, Swin's and SwinV2's _init_weights):
    /// every Linear weight trunc_normal(std 0.02) and its bias zero; norms and convolutions keep torch's defaults.
    /// </summary>
    public static void Linears(nn.Module model)
    {
        using var noGrad = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not Layers.Linear linear) continue;
            TruncatedNormal(linear.weight, std: 0.02);
            linear.bias?.zero_();
        }
    }
}
