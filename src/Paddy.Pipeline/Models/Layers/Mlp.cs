using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>timm's Mlp: fc1, exact GELU, fc2 (dropout and norm are identities in every model here).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    public readonly Linear fc1;
    public readonly Linear fc2;

    public Mlp(long features, long hiddenFeatures) : base(nameof(Mlp))
    {
        fc1 = new Linear(features, hiddenFeatures);
        fc2 = new Linear(hiddenFeatures, features);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(nn.functional.gelu(fc1.forward(x))).MoveToOuterDisposeScope();
    }
}
