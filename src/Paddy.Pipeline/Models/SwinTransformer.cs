// Swin v1 and SwinV2 share one body (SwinBody: patch embedding, stages, final norm, head, the block's residual
// skeleton in SwinBlock, PatchMerging in SwinPatchMerging, the window geometry in SwinWindows); this file holds
// only what is v1's own: window attention with a learned bias table and the pre-norm block. timm
// keeps the two as separate files that repeat the scaffolding; one copy here keeps a fix from reaching only one.
using System.Text.Json.Nodes;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Paddy.Pipeline.Models;

/// <summary>
/// Swin v1 window attention: softmax(q k^T / sqrt(head_dim) + relative position bias + shift mask) v, then proj.
/// The bias for tokens i, j is relative_position_bias_table[relative_position_index[i, j]], per head.
/// </summary>
public sealed class SwinWindowAttention : SwinWindowAttentionBase
{
    public readonly Parameter relative_position_bias_table;
    public readonly Linear qkv;
    public readonly Linear proj;
    private readonly int heads;
    private readonly double scale;

    public SwinWindowAttention(int dim, int heads, SwinWindowLayout layout, bool qkvBias) : base(nameof(SwinWindowAttention), layout)
    {
        this.heads = heads;
        scale = Math.Pow(dim / heads, -0.5);
        relative_position_bias_table = new Parameter(
            empty((2 * layout.WindowHeight - 1) * (2 * layout.WindowWidth - 1), heads));
        TimmInit.TruncatedNormal(relative_position_bias_table, std: 0.02);
        qkv = new Linear(dim, 3 * dim, qkvBias);
        proj = new Linear(dim, dim);
        RegisterComponents();
    }

    /// <summary>x: [B * windows, N, C]; mask: [windows, N, N] or null.</summary>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var (windows, tokens) = (x.shape[0], x.shape[1]);
        var qkvHeads = qkv.forward(x).reshape(windows, tokens, 3, heads, -1).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (qkvHeads[0], qkvHeads[1], qkvHeads[2]);
        using var scaleScalar = scale.ToScalar();
        var logits = Autocast.ToFloat32(matmul(q.mul(scaleScalar), k.transpose(-2, -1))).add(RelativePositionBias(tokens), HeldScalars.One);
        if (mask is not null) logits = SwinWindows.AddMask(logits, mask);
        var weights = softmax(logits, -1);
        var attended = matmul(Autocast.ForCompute(weights), Autocast.ForCompute(v)).transpose(1, 2).reshape(windows, tokens, -1);
        return proj.forward(attended).MoveToOuterDisposeScope();
    }

    private Tensor RelativePositionBias(long tokens) =>
        relative_position_bias_table.index_select(0, RelativePositionIndex.view(-1))
            .view(tokens, tokens, -1).permute(2, 0, 1).unsqueeze(0);
}

/// <summary>Swin v1 block, pre-norm: x + attn(norm1(x)) over shifted windows, then x + mlp(norm2(x)).</summary>
public sealed class SwinTransformerBlock : SwinBlock
{
    public readonly LayerNorm norm1;
    public readonly SwinWindowAttention attn;
    public readonly LayerNorm norm2;
    public readonly Mlp mlp;

    public SwinTransformerBlock(int dim, int heads, double mlpRatio, bool qkvBias, SwinWindowLayout layout, double dropPathRate)
        : base(nameof(SwinTransformerBlock), layout, dropPathRate)
    {
        norm1 = new LayerNorm(dim, 1e-5);
        attn = new SwinWindowAttention(dim, heads, layout, qkvBias);
        norm2 = new LayerNorm(dim, 1e-5);
        mlp = new Mlp(dim, (long)(dim * mlpRatio));
        RegisterComponents();
    }

    protected override Tensor AttentionBranch(Tensor x) => AttendInWindows(norm1.forward(x));

    protected override Tensor MlpBranch(Tensor tokens) => mlp.forward(norm2.forward(tokens));

    protected override SwinWindowAttentionBase WindowAttention => attn;
}

/// <summary>
/// timm's SwinTransformer (v1) on the shared Swin body: v1 PatchMerging (norm, then reduce) and pre-norm blocks
/// with a learned relative position bias table. Features are NHWC [B, H, W, C].
/// </summary>
public sealed class SwinTransformer(SwinArchitecture architecture, int numClasses)
    : SwinBody<SwinTransformerBlock>(nameof(SwinTransformer), architecture, numClasses, normBeforeReduction: true,
        place => new SwinTransformerBlock(place.Dim, place.Heads, architecture.MlpRatio, architecture.QkvBias, place.Layout,
            place.DropPathRate))
{
    /// <summary>Builds the model from timm constructor kwargs (as in a fixture's config.json).</summary>
    public static SwinTransformer FromTimmArguments(JsonObject kwargs)
    {
        var args = new TimmArguments(nameof(SwinTransformer), kwargs);
        var architecture = SwinArchitecture.FromTimmArguments(args, defaultImageSize: 224, defaultWindow: 7);
        var numClasses = args.Int("num_classes", 1000);
        args.EnsureAllRead();
        return new SwinTransformer(architecture, numClasses);
    }

    /// <summary>swin tiny/small/base/large patch4 window7 224 with the tags, default tag and legacy names of timm.</summary>
    public static IReadOnlyList<ModelDefinition> Definitions { get; } = BuildDefinitions();

    private static IReadOnlyList<ModelDefinition> BuildDefinitions()
    {
        var variants = new (string Size, int EmbedDim, int[] Depths, int[] Heads)[]
        {
            ("tiny", 96, [2, 2, 6, 2], [3, 6, 12, 24]),
            ("small", 96, [2, 2, 18, 2], [3, 6, 12, 24]),
            ("base", 128, [2, 2, 18, 2], [4, 8, 16, 32]),
            ("large", 192, [2, 2, 18, 2], [6, 12, 24, 48]),
        };
        // timm's default tag is the first one its default_cfgs lists: tiny lists ms_in1k first because its
        // 22k pretraining scores worse; the others list ms_in22k_ft_in1k first.
        var tagsInTimmOrder = new Dictionary<string, string[]>
        {
            ["tiny"] = ["ms_in1k", "ms_in22k_ft_in1k", "ms_in22k"],
            ["small"] = ["ms_in22k_ft_in1k", "ms_in1k", "ms_in22k"],
            ["base"] = ["ms_in22k_ft_in1k", "ms_in1k", "ms_in22k"],
            ["large"] = ["ms_in22k_ft_in1k", "ms_in22k"],
        };
        var definitions = new List<ModelDefinition>();
        foreach (var variant in variants)
        {
            var arch = $"swin_{variant.Size}_patch4_window7_224";
            var tags = tagsInTimmOrder[variant.Size];
            foreach (var tag in tags)
            {
                var classes = tag == "ms_in22k" ? 21841 : 1000;
                // timm's register_model_deprecations for Swin v1 names only base and large.
                string[] aliases = tag == "ms_in22k" && variant.Size is "base" or "large" ? [$"{arch}_in22k"] : [];
                definitions.Add(new ModelDefinition(arch, tag, IsDefaultTag: tag == tags[0],
                    new PretrainedConfig(3, 224, 224, FixedInputSize: true, "bicubic", 0.9, PretrainedConfig.ImagenetMean,
                        PretrainedConfig.ImagenetStd, classes, $"timm/{arch}.{tag}"),
                    aliases,
                    options => new SwinTransformer(
                        new SwinArchitecture(options.ImageHeight, options.ImageWidth, PatchSize: 4, InChannels: 3,
                            variant.EmbedDim, variant.Depths, variant.Heads, WindowHeight: 7, WindowWidth: 7),
                        options.NumClasses)));
            }
        }
        return definitions;
    }
}
