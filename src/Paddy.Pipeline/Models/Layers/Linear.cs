using Paddy.Pipeline.Device;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>nn.Linear with torch's default initialisation, computing in the autocast type when a scope is open.</summary>
public sealed class Linear : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    public readonly Parameter? bias;

    public Linear(long inFeatures, long outFeatures, bool hasBias = true) : base(nameof(Linear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures));
        nn.init.kaiming_uniform_(weight, Math.Sqrt(5));
        if (hasBias)
        {
            var bound = 1.0 / Math.Sqrt(inFeatures);
            bias = new Parameter(empty(outFeatures));
            nn.init.uniform_(bias, -bound, bound);
        }
        RegisterComponents();
    }

    public long InFeatures => weight.shape[1];
    public long OutFeatures => weight.shape[0];

    public override Tensor forward(Tensor x) =>
        nn.functional.linear(Autocast.ForCompute(x), Autocast.ForCompute(weight),
            bias is null ? null : Autocast.ForCompute(bias));
}
