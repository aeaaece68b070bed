using Paddy.Pipeline.Device;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>nn.LayerNorm over the last dimension, always in float32 (as under torch.autocast).</summary>
public class LayerNorm : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    public readonly Parameter bias;
    protected readonly double eps;

    public LayerNorm(long features, double eps) : this(nameof(LayerNorm), features, eps) { }

    protected LayerNorm(string name, long features, double eps) : base(name)
    {
        this.eps = eps;
        weight = new Parameter(ones(features));
        bias = new Parameter(zeros(features));
        RegisterComponents();
    }

    public double Eps => eps;

    public override Tensor forward(Tensor x) =>
        nn.functional.layer_norm(Autocast.ToFloat32(x), [weight.shape[0]], weight, bias, eps);
}

/// <summary>timm's LayerNorm2d: LayerNorm over the channels of an NCHW tensor.</summary>
public sealed class LayerNorm2d : LayerNorm
{
    public LayerNorm2d(long channels, double eps) : base(nameof(LayerNorm2d), channels, eps) { }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var channelsLast = Autocast.ToFloat32(x).permute(0, 2, 3, 1);
        return nn.functional.layer_norm(channelsLast, [weight.shape[0]], weight, bias, eps)
            .permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }
}
