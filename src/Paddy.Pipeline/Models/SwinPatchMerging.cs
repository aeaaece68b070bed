using TorchSharp;
using static TorchSharp.torch;
using LayerNorm = Paddy.Pipeline.Models.Layers.LayerNorm;
using Linear = Paddy.Pipeline.Models.Layers.Linear;

namespace Paddy.Pipeline.Models;

/// <summary>
/// Swin's PatchMerging: gather 2x2 neighbours (4C), then a bias-free reduction 4C to 2C and a LayerNorm, in the
/// version's order. v1 normalises the 4C gather, then reduces; v2 reduces, then normalises the 2C result.
/// </summary>
public sealed class SwinPatchMerging : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm norm;
    public readonly Linear reduction;
    private readonly bool normFirst;

    public SwinPatchMerging(int dim, double eps, bool normFirst) : base(nameof(SwinPatchMerging))
    {
        this.normFirst = normFirst;
        norm = new LayerNorm(normFirst ? 4 * dim : 2 * dim, eps);
        reduction = new Linear(4 * dim, 2 * dim, hasBias: false);
        // Registered by hand, not by RegisterComponents (field order), because the state dict follows the
        // registration order and timm's v1 lists norm before reduction, its v2 reduction before norm.
        foreach (var (name, module) in normFirst
                     ? new (string, nn.Module)[] { (nameof(norm), norm), (nameof(reduction), reduction) }
                     : [(nameof(reduction), reduction), (nameof(norm), norm)])
            register_module(name, module);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var neighbours = SwinWindows.MergeNeighbours(x);
        var merged = normFirst ? reduction.forward(norm.forward(neighbours)) : norm.forward(reduction.forward(neighbours));
        return merged.MoveToOuterDisposeScope();
    }
}
