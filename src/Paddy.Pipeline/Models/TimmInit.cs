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
}
