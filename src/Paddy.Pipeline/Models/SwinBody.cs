using Paddy.Pipeline.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using LayerNorm = Paddy.Pipeline.Models.Layers.LayerNorm;

namespace Paddy.Pipeline.Models;

/// <summary>Where a block stands in a Swin body: its stage, width, heads, window layout and drop-path rate.</summary>
public sealed record SwinBlockPlace(int Stage, int Dim, int Heads, SwinWindowLayout Layout, double DropPathRate);

/// <summary>
/// The body Swin v1 and SwinV2 share, as timm builds both: NHWC PatchEmbed with LayerNorm, stages of
/// shifted-window blocks with a PatchMerging before every stage but the first, final LayerNorm, average-pool
/// head. The version decides the block and the PatchMerging order; the rest is one code path, so the two cannot drift.
/// Parameter names equal timm's state-dict keys. The computed buffers are made for the construction size, so
/// the model takes exactly that input size (timm's strict_img_size).
/// </summary>
public abstract class SwinBody<TBlock> : TimmModel where TBlock : SwinBlock
{
    private const double NormEps = 1e-5;

    public readonly PatchEmbed patch_embed;
    public readonly ModuleList<SwinStage<TBlock>> layers;
    public readonly LayerNorm norm;
    public readonly ClassifierHead head;

    /// <param name="normBeforeReduction">The PatchMerging order: true in v1 (norm, then reduce), false in v2.</param>
    /// <param name="block">A block, given its place.</param>
    protected SwinBody(string name, SwinArchitecture architecture, int numClasses, bool normBeforeReduction,
        Func<SwinBlockPlace, TBlock> block) : base(name)
    {
        Architecture = architecture;
        patch_embed = new PatchEmbed((architecture.ImageHeight, architecture.ImageWidth), architecture.PatchSize,
            architecture.InChannels, architecture.EmbedDim, PatchFormat.Nhwc, NormEps);
        layers = new ModuleList<SwinStage<TBlock>>();
        var (height, width) = architecture.PatchGrid;
        var dim = architecture.EmbedDim;
        for (var s = 0; s < architecture.Depths.Count; s++)
        {
            var downsample = s > 0 ? new SwinPatchMerging(dim, NormEps, normBeforeReduction) : null;
            if (s > 0) (height, width, dim) = ((height + 1) / 2, (width + 1) / 2, dim * 2);
            var blocks = new ModuleList<TBlock>();
            for (var b = 0; b < architecture.Depths[s]; b++)
                blocks.append(block(new SwinBlockPlace(s, dim, architecture.NumHeads[s], architecture.BlockLayout(height, width, b),
                    architecture.DropPathRate(s, b))));
            layers.append(new SwinStage<TBlock>(downsample, blocks));
        }
        norm = new LayerNorm(dim, NormEps);
        head = new ClassifierHead(dim, numClasses);
        RegisterComponents();
        // timm's init_weights: its _init_weights on every Linear (SwinV2's blocks zeroed their post-norms themselves).
        TimmInit.Linears(this);
    }

    public SwinArchitecture Architecture { get; }

    public override long NumFeatures => head.NumFeatures;

    public override bool FastaiPoolsFeatures => false;

    /// <summary>The window and shift of every block, keyed by timm's module name (layers.S.blocks.B).</summary>
    public IReadOnlyList<(string Block, SwinWindowLayout Layout)> BlockLayouts =>
        Blocks().Select(b => (b.Name, b.Block.Layout)).ToList();

    /// <summary>
    /// The computed buffers that timm keeps out of the state dict (attn_mask, relative_position_index and, in v2,
    /// k_bias and relative_coords_table), under timm's names. A checkpoint that still carries them (the HF-hub
    /// Swin files carry some) must skip or compare them.
    /// </summary>
    public IReadOnlyList<(string Name, Tensor Buffer)> NonPersistentBuffers() =>
        Blocks().SelectMany(b => b.Block.NonPersistentBuffers().Select(n => ($"{b.Name}.{n.Name}", n.Buffer))).ToList();

    public override Tensor forward_features(Tensor x)
    {
        using var scope = NewDisposeScope();
        Architecture.CheckInput(x, GetName());
        var features = patch_embed.forward(x);
        foreach (var stage in layers) features = stage.forward(features);
        return norm.forward(features).MoveToOuterDisposeScope();
    }

    public override Tensor forward_head(Tensor features, bool preLogits = false) => head.forward(features, preLogits);

    private IEnumerable<(string Name, TBlock Block)> Blocks() =>
        layers.SelectMany((stage, s) => stage.blocks.Select((block, b) => ($"layers.{s}.blocks.{b}", block)));
}
