using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models;

/// <summary>One stage (v1 or v2): the PatchMerging that starts every stage but the first, then the blocks.</summary>
public sealed class SwinStage<TBlock> : nn.Module<Tensor, Tensor> where TBlock : nn.Module<Tensor, Tensor>
{
    public readonly nn.Module<Tensor, Tensor>? downsample;
    public readonly ModuleList<TBlock> blocks;

    public SwinStage(nn.Module<Tensor, Tensor>? downsample, ModuleList<TBlock> blocks) : base("SwinStage")
    {
        this.downsample = downsample;
        this.blocks = blocks;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var result = downsample is null ? x : downsample.forward(x);
        foreach (var block in blocks) result = block.forward(result);
        return result.MoveToOuterDisposeScope();
    }
}
