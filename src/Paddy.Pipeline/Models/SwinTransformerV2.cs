// SwinV2 shares its body with Swin v1 (SwinBody: patch embedding, stages, final norm, head, the block's residual
// skeleton in SwinBlock, PatchMerging in SwinPatchMerging, the window geometry in SwinWindows); this file holds
// only what is v2's own: scaled cosine window attention with a continuous position bias and the post-norm block.
// timm keeps the two as separate files that repeat the scaffolding; one copy here keeps a fix from reaching only one.
using System.Text.Json.Nodes;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using LayerNorm = Paddy.Pipeline.Models.Layers.LayerNorm;
using Linear = Paddy.Pipeline.Models.Layers.Linear;

namespace Paddy.Pipeline.Models;

/// <summary>
/// SwinV2 window attention: cos(q, k) * exp(min(logit_scale, ln 100)) + 16 sigmoid(cpb_mlp(relative_coords_table))
/// indexed by relative_position_index, plus the shift mask; softmax; times v; proj. The qkv bias is
/// (q_bias, k_bias = 0, v_bias).
/// </summary>
public sealed class SwinV2WindowAttention : SwinWindowAttentionBase
{
    private static readonly double MaxLogitScale = Math.Log(100);

    public readonly Parameter logit_scale;
    public readonly Parameter? q_bias;
    public readonly Parameter? v_bias;
    public readonly Sequential cpb_mlp;
    public readonly Linear qkv;
    public readonly Linear proj;
    private readonly int heads;
    private Tensor? k_bias;
    private Tensor relative_coords_table;

    public SwinV2WindowAttention(int dim, int heads, SwinWindowLayout layout, bool qkvBias, int pretrainedWindow)
        : base(nameof(SwinV2WindowAttention), layout)
    {
        this.heads = heads;
        logit_scale = new Parameter(full(heads, 1, 1, Math.Log(10)));
        if (qkvBias)
        {
            q_bias = new Parameter(zeros(dim));
            v_bias = new Parameter(zeros(dim));
        }
        cpb_mlp = nn.Sequential(new Linear(2, 512), nn.ReLU(), new Linear(512, heads, hasBias: false));
        qkv = new Linear(dim, 3 * dim, hasBias: false);
        proj = new Linear(dim, dim);
        RegisterComponents();
        // Registered after RegisterComponents, which would make Tensor fields persistent buffers.
        if (qkvBias)
        {
            k_bias = zeros(dim);
            register_buffer(nameof(k_bias), k_bias, persistent: false);
        }
        relative_coords_table = RelativeCoordsTable(layout.WindowHeight, layout.WindowWidth, pretrainedWindow);
        register_buffer(nameof(relative_coords_table), relative_coords_table, persistent: false);
    }

    public override IEnumerable<(string Name, Tensor Buffer)> NonPersistentBuffers()
    {
        if (k_bias is not null) yield return (nameof(k_bias), k_bias);
        yield return (nameof(relative_coords_table), relative_coords_table);
        foreach (var shared in base.NonPersistentBuffers()) yield return shared;
    }

    /// <summary>x: [B * windows, N, C]; mask: [windows, N, N] or null.</summary>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var (windows, tokens, channels) = (x.shape[0], x.shape[1], x.shape[2]);
        var bias = q_bias is null ? null : cat([q_bias, k_bias!, v_bias!]);
        var qkvHeads = nn.functional.linear(Autocast.ForCompute(x), Autocast.ForCompute(qkv.weight),
                bias is null ? null : Autocast.ForCompute(bias))
            .reshape(windows, tokens, 3, heads, -1).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (qkvHeads[0], qkvHeads[1], qkvHeads[2]);

        var unitQ = nn.functional.normalize(Autocast.ToFloat32(q), dim: -1);
        var unitK = nn.functional.normalize(Autocast.ToFloat32(k), dim: -1);
        var cosine = Autocast.ToFloat32(matmul(Autocast.ForCompute(unitQ), Autocast.ForCompute(unitK).transpose(-2, -1)));
        using var maxLogitScale = MaxLogitScale.ToScalar();
        var logits = cosine.mul(logit_scale.clamp_max(maxLogitScale).exp()).add(PositionBias(tokens), HeldScalars.One);
        if (mask is not null) logits = SwinWindows.AddMask(logits, mask);
        var weights = softmax(logits, -1);
        var attended = matmul(Autocast.ForCompute(weights), Autocast.ForCompute(v)).transpose(1, 2).reshape(windows, tokens, channels);
        return proj.forward(attended).MoveToOuterDisposeScope();
    }

    /// <summary>16 sigmoid(cpb_mlp(table)) gathered per token pair: [1, heads, N, N].</summary>
    private Tensor PositionBias(long tokens)
    {
        var table = Autocast.ToFloat32(cpb_mlp.forward(relative_coords_table)).view(-1, heads);
        var bias = table.index_select(0, RelativePositionIndex.view(-1)).view(tokens, tokens, -1).permute(2, 0, 1);
        using var sixteen = 16.0.ToScalar();
        return sigmoid(bias).unsqueeze(0).mul(sixteen);
    }

    /// <summary>
    /// timm's log-spaced relative coordinates [1, 2Wh-1, 2Ww-1, 2]: each offset d in -(W-1)..W-1 becomes
    /// sign(t) log2(|t| + 1) / log2(8) with t = 8 d / (W' - 1), W' the pretrained window when given, else W.
    /// </summary>
    public static Tensor RelativeCoordsTable(int windowHeight, int windowWidth, int pretrainedWindow)
    {
        using var scope = NewDisposeScope();
        var (scaleHeight, scaleWidth) = pretrainedWindow > 0 ? (pretrainedWindow, pretrainedWindow) : (windowHeight, windowWidth);
        // A constant table: computed on the CPU whatever the default device (the meta device has no abs kernel),
        // then moved with the model.
        var rows = arange(-(windowHeight - 1), windowHeight, dtype: ScalarType.Float32, device: CPU) / (scaleHeight - 1);
        var cols = arange(-(windowWidth - 1), windowWidth, dtype: ScalarType.Float32, device: CPU) / (scaleWidth - 1);
        var grid = stack(meshgrid([rows, cols], indexing: "ij"), dim: -1).unsqueeze(0) * 8;
        using var one = 1.0.ToScalar();
        var table = sign(grid) * log2(grid.abs().add(one, HeldScalars.One)) / Math.Log2(8);
        return table.contiguous().MoveToOuterDisposeScope();
    }

    protected override void _toEpilog(ScalarType? dtype, torch.Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        if (k_bias is not null)
        {
            k_bias = SwinWindows.MoveBuffer(k_bias, dtype, device);
            ConditionallyRegisterBuffer(nameof(k_bias), k_bias, persistent: false);
        }
        relative_coords_table = SwinWindows.MoveBuffer(relative_coords_table, dtype, device);
        ConditionallyRegisterBuffer(nameof(relative_coords_table), relative_coords_table, persistent: false);
    }
}

/// <summary>SwinV2 block, post-norm: x + norm1(attn(x)) over shifted windows, then x + norm2(mlp(x)).</summary>
public sealed class SwinV2Block : SwinBlock
{
    public readonly SwinV2WindowAttention attn;
    public readonly LayerNorm norm1;
    public readonly Mlp mlp;
    public readonly LayerNorm norm2;

    public SwinV2Block(int dim, int heads, double mlpRatio, bool qkvBias, SwinWindowLayout layout, int pretrainedWindow,
        double dropPathRate) : base(nameof(SwinV2Block), layout, dropPathRate)
    {
        attn = new SwinV2WindowAttention(dim, heads, layout, qkvBias, pretrainedWindow);
        norm1 = new LayerNorm(dim, 1e-5);
        mlp = new Mlp(dim, (long)(dim * mlpRatio));
        norm2 = new LayerNorm(dim, 1e-5);
        // timm's _init_respostnorm: with zero post-norms a fresh block starts as the identity.
        using (no_grad())
            foreach (var parameter in new[] { norm1.weight, norm1.bias, norm2.weight, norm2.bias }) parameter.zero_();
        RegisterComponents();
    }

    protected override Tensor AttentionBranch(Tensor x) => norm1.forward(AttendInWindows(x));

    protected override Tensor MlpBranch(Tensor tokens) => norm2.forward(mlp.forward(tokens));

    protected override SwinWindowAttentionBase WindowAttention => attn;
}

/// <summary>
/// timm's SwinTransformerV2 on the shared Swin body: post-norm blocks, scaled cosine attention and a continuous
/// position bias (a small MLP over log-spaced relative coordinates); PatchMerging reduces before it normalises.
/// Features are NHWC [B, H, W, C].
/// </summary>
/// <param name="pretrainedWindowSizes">Per stage, the window the weights were trained with (0: the block's own
/// window); it sets the scale of the log-spaced coordinates, as timm's pretrained_window_sizes.</param>
public sealed class SwinTransformerV2(SwinArchitecture architecture, int numClasses, IReadOnlyList<int>? pretrainedWindowSizes = null)
    : SwinBody<SwinV2Block>(nameof(SwinTransformerV2), architecture, numClasses, normBeforeReduction: false,
        BlockFactory(architecture, pretrainedWindowSizes))
{
    /// <summary>Builds the model from timm constructor kwargs (as in a fixture's config.json).</summary>
    public static SwinTransformerV2 FromTimmArguments(JsonObject kwargs)
    {
        var args = new TimmArguments(nameof(SwinTransformerV2), kwargs);
        var architecture = SwinArchitecture.FromTimmArguments(args, defaultImageSize: 224, defaultWindow: 7);
        var pretrainedWindows = args.IntList("pretrained_window_sizes", new int[architecture.Depths.Count]);
        var numClasses = args.Int("num_classes", 1000);
        args.EnsureAllRead();
        return new SwinTransformerV2(architecture, numClasses, pretrainedWindows);
    }

    private static Func<SwinBlockPlace, SwinV2Block> BlockFactory(SwinArchitecture architecture, IReadOnlyList<int>? pretrainedWindowSizes)
    {
        var pretrainedWindows = pretrainedWindowSizes ?? new int[architecture.Depths.Count];
        if (pretrainedWindows.Count != architecture.Depths.Count)
            throw new ArgumentException(
                $"pretrained_window_sizes has {pretrainedWindows.Count} entries for {architecture.Depths.Count} stages; give one per stage.",
                nameof(pretrainedWindowSizes));
        return place => new SwinV2Block(place.Dim, place.Heads, architecture.MlpRatio, architecture.QkvBias, place.Layout,
            pretrainedWindows[place.Stage], place.DropPathRate);
    }

    /// <summary>swinv2 tiny/small/base window8/16 256 (ms_in1k) and swinv2_large_window12_192.ms_in22k, as timm registers them.</summary>
    public static IReadOnlyList<ModelDefinition> Definitions { get; } = BuildDefinitions();

    private static IReadOnlyList<ModelDefinition> BuildDefinitions()
    {
        var variants = new (string Arch, string Tag, int Image, int Window, int EmbedDim, int[] Depths, int[] Heads, int Classes, string[] Aliases)[]
        {
            ("swinv2_tiny_window8_256", "ms_in1k", 256, 8, 96, [2, 2, 6, 2], [3, 6, 12, 24], 1000, []),
            ("swinv2_tiny_window16_256", "ms_in1k", 256, 16, 96, [2, 2, 6, 2], [3, 6, 12, 24], 1000, []),
            ("swinv2_small_window8_256", "ms_in1k", 256, 8, 96, [2, 2, 18, 2], [3, 6, 12, 24], 1000, []),
            ("swinv2_small_window16_256", "ms_in1k", 256, 16, 96, [2, 2, 18, 2], [3, 6, 12, 24], 1000, []),
            ("swinv2_base_window8_256", "ms_in1k", 256, 8, 128, [2, 2, 18, 2], [4, 8, 16, 32], 1000, []),
            ("swinv2_base_window16_256", "ms_in1k", 256, 16, 128, [2, 2, 18, 2], [4, 8, 16, 32], 1000, []),
            ("swinv2_large_window12_192", "ms_in22k", 192, 12, 192, [2, 2, 18, 2], [6, 12, 24, 48], 21841,
                ["swinv2_large_window12_192_22k"]),
        };
        // Each of these architectures has a single tag in timm, so it is also the default tag.
        return variants.Select(v => new ModelDefinition(v.Arch, v.Tag, IsDefaultTag: true,
            new PretrainedConfig(3, v.Image, v.Image, FixedInputSize: true, "bicubic", 0.9, PretrainedConfig.ImagenetMean,
                PretrainedConfig.ImagenetStd, v.Classes, $"timm/{v.Arch}.{v.Tag}"),
            v.Aliases,
            options => (TimmModel)new SwinTransformerV2(
                new SwinArchitecture(options.ImageHeight, options.ImageWidth, PatchSize: 4, InChannels: 3, v.EmbedDim,
                    v.Depths, v.Heads, WindowHeight: v.Window, WindowWidth: v.Window),
                options.NumClasses))).ToList();
    }
}
