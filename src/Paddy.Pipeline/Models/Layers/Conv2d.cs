using Paddy.Pipeline.Device;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>nn.Conv2d (square kernel) with torch's default initialisation, computing in the autocast type when a scope is open.</summary>
public sealed class Conv2d : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    public readonly Parameter? bias;
    private readonly long stride;
    private readonly long padding;
    private readonly long groups;

    public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
        long groups = 1, bool hasBias = true) : base(nameof(Conv2d))
    {
        this.stride = stride;
        this.padding = padding;
        this.groups = groups;
        weight = new Parameter(empty(outChannels, inChannels / groups, kernelSize, kernelSize));
        nn.init.kaiming_uniform_(weight, Math.Sqrt(5));
        if (hasBias)
        {
            var bound = 1.0 / Math.Sqrt(inChannels / groups * kernelSize * kernelSize);
            bias = new Parameter(empty(outChannels));
            nn.init.uniform_(bias, -bound, bound);
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        nn.functional.conv2d(Autocast.ForCompute(x), Autocast.ForCompute(weight),
            bias is null ? null : Autocast.ForCompute(bias),
            strides: [stride, stride], padding: [padding, padding], groups: groups);
}
