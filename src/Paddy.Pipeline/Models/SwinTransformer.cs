using System.Text.Json.Nodes;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Conv2d = Paddy.Pipeline.Models.Layers.Conv2d;
using LayerNorm = Paddy.Pipeline.Models.Layers.LayerNorm;
using Linear = Paddy.Pipeline.Models.Layers.Linear;

namespace Paddy.Pipeline.Models;

/// <summary>
/// timm's SwinTransformer (v1): patch embedding, stages of shifted-window attention blocks with PatchMerging at
/// the start of every stage but the first, final LayerNorm, then average pooling over H, W and head.fc.
/// Features are NHWC [B, H, W, C]. Parameter names equal timm's state-dict keys; the relative position indices
/// and shift masks are non-persistent buffers under timm's names, computed once for the construction size,
/// so the model takes exactly that input size (timm's strict_img_size).
/// </summary>
public sealed class SwinTransformer : TimmModel
{
    private const double NormEps = 1e-5;

    public readonly SwinPatchEmbed patch_embed;
    public readonly ModuleList<SwinStage<SwinTransformerBlock>> layers;
    public readonly LayerNorm norm;
    public readonly SwinClassifierHead head;

    public SwinTransformer(SwinArchitecture architecture, int numClasses) : base(nameof(SwinTransformer))
    {
        Architecture = architecture;
        patch_embed = new SwinPatchEmbed(architecture, NormEps);
        layers = new ModuleList<SwinStage<SwinTransformerBlock>>();
        var (height, width) = architecture.PatchGrid;
        var dim = architecture.EmbedDim;
        for (var s = 0; s < architecture.Depths.Count; s++)
        {
            var downsample = s > 0 ? new SwinPatchMerging(dim, NormEps) : null;
            if (s > 0) (height, width, dim) = ((height + 1) / 2, (width + 1) / 2, dim * 2);
            var blocks = new ModuleList<SwinTransformerBlock>();
            for (var b = 0; b < architecture.Depths[s]; b++)
                blocks.append(new SwinTransformerBlock(dim, architecture.NumHeads[s], architecture.MlpRatio,
                    architecture.QkvBias, architecture.BlockLayout(height, width, b), architecture.DropPathRate(s, b)));
            layers.append(new SwinStage<SwinTransformerBlock>(downsample, blocks));
        }
        norm = new LayerNorm(dim, NormEps);
        head = new SwinClassifierHead(dim, numClasses);
        RegisterComponents();
        TimmInit.Linears(this);
    }

    public SwinArchitecture Architecture { get; }

    public override long NumFeatures => head.NumFeatures;

    public override bool FastaiPoolsFeatures => false;

    /// <summary>The window and shift of every block, keyed by timm's module name (layers.S.blocks.B).</summary>
    public IReadOnlyList<(string Block, SwinWindowLayout Layout)> BlockLayouts =>
        Blocks().Select(b => (b.Name, b.Block.Layout)).ToList();

    /// <summary>
    /// The computed buffers that timm keeps out of the state dict (relative_position_index, attn_mask), under
    /// timm's names. A checkpoint that still carries them (the HF-hub Swin files do) must skip or compare them.
    /// </summary>
    public IReadOnlyList<(string Name, Tensor Buffer)> NonPersistentBuffers() =>
        Blocks().SelectMany(b => b.Block.NonPersistentBuffers().Select(n => ($"{b.Name}.{n.Name}", n.Buffer))).ToList();

    public override Tensor forward_features(Tensor x)
    {
        using var scope = NewDisposeScope();
        Architecture.CheckInput(x, nameof(SwinTransformer));
        var features = patch_embed.forward(x);
        foreach (var stage in layers) features = stage.forward(features);
        return norm.forward(features).MoveToOuterDisposeScope();
    }

    public override Tensor forward_head(Tensor features, bool preLogits = false) => head.forward(features, preLogits);

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

    private IEnumerable<(string Name, SwinTransformerBlock Block)> Blocks() =>
        layers.SelectMany((stage, s) => stage.blocks.Select((block, b) => ($"layers.{s}.blocks.{b}", block)));
}

/// <summary>The hyper-parameters of a Swin (v1 or v2) body, as timm's constructor takes them.</summary>
public sealed record SwinArchitecture(
    int ImageHeight, int ImageWidth, int PatchSize, int InChannels, int EmbedDim,
    IReadOnlyList<int> Depths, IReadOnlyList<int> NumHeads, int WindowHeight, int WindowWidth,
    double MlpRatio = 4.0, bool QkvBias = true, double MaxDropPathRate = 0.1)
{
    /// <summary>The architecture from timm constructor kwargs (img_size and window_size: an int or a (height, width) pair).</summary>
    public static SwinArchitecture FromTimmArguments(TimmArguments args, int defaultImageSize, int defaultWindow)
    {
        var (imageHeight, imageWidth) = args.IntPair("img_size", (defaultImageSize, defaultImageSize));
        var (windowHeight, windowWidth) = args.IntPair("window_size", (defaultWindow, defaultWindow));
        return new SwinArchitecture(imageHeight, imageWidth, args.Int("patch_size", 4), args.Int("in_chans", 3),
            args.Int("embed_dim", 96), args.IntList("depths", [2, 2, 6, 2]), args.IntList("num_heads", [3, 6, 12, 24]),
            windowHeight, windowWidth, args.Double("mlp_ratio", 4.0), args.Bool("qkv_bias", true), args.Double("drop_path_rate", 0.1));
    }

    public (int Height, int Width) PatchGrid => (ImageHeight / PatchSize, ImageWidth / PatchSize);

    /// <summary>Stage s has EmbedDim * 2^s channels; the last stage's width is num_features.</summary>
    public int NumFeatures => EmbedDim << (Depths.Count - 1);

    /// <summary>timm's rule: even blocks are not shifted, odd blocks by half the window; a stage no larger than
    /// the window becomes one unshifted window.</summary>
    public SwinWindowLayout BlockLayout(int height, int width, int blockIndex) =>
        SwinWindowLayout.For(height, width, WindowHeight, WindowWidth, oddBlock: blockIndex % 2 == 1);

    /// <summary>
    /// Stochastic depth of block b of stage s: timm's calculate_drop_path_rates, rising linearly from 0 at the
    /// first block to MaxDropPathRate (timm's drop_path_rate, 0.1 by default for Swin) at the last.
    /// </summary>
    public double DropPathRate(int stage, int block)
    {
        var total = Depths.Sum();
        var index = Depths.Take(stage).Sum() + block;
        return total == 1 ? 0 : MaxDropPathRate * index / (total - 1);
    }

    public void CheckInput(Tensor x, string model)
    {
        if (x.dim() != 4 || x.shape[1] != InChannels || x.shape[2] != ImageHeight || x.shape[3] != ImageWidth)
            throw new ArgumentException(
                $"{model} was built for input [B, {InChannels}, {ImageHeight}, {ImageWidth}] (its shift masks and " +
                $"windows are computed for that size) but got [{string.Join(", ", x.shape)}]. Resize the images to " +
                $"{ImageHeight}x{ImageWidth}, or build the model with ModelOptions for the size you feed.");
    }
}

/// <summary>timm's PatchEmbed with output_fmt NHWC: a patch-sized strided convolution, then LayerNorm.</summary>
public sealed class SwinPatchEmbed : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d proj;
    public readonly LayerNorm norm;

    public SwinPatchEmbed(SwinArchitecture architecture, double eps) : base(nameof(SwinPatchEmbed))
    {
        proj = new Conv2d(architecture.InChannels, architecture.EmbedDim, architecture.PatchSize, stride: architecture.PatchSize);
        norm = new LayerNorm(architecture.EmbedDim, eps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return norm.forward(proj.forward(x).permute(0, 2, 3, 1)).MoveToOuterDisposeScope();
    }
}

/// <summary>timm's ClassifierHead for NHWC features: average over H and W (pre-logits), then fc (absent for 0 classes).</summary>
public sealed class SwinClassifierHead : nn.Module<Tensor, Tensor>
{
    public readonly Linear? fc;

    public SwinClassifierHead(long numFeatures, int numClasses) : base(nameof(SwinClassifierHead))
    {
        NumFeatures = numFeatures;
        if (numClasses > 0) fc = new Linear(numFeatures, numClasses);
        RegisterComponents();
    }

    public long NumFeatures { get; }

    public override Tensor forward(Tensor features) => forward(features, preLogits: false);

    public Tensor forward(Tensor features, bool preLogits)
    {
        using var scope = NewDisposeScope();
        var pooled = features.mean([1, 2]);
        var result = preLogits || fc is null ? pooled : fc.forward(pooled);
        return result.MoveToOuterDisposeScope();
    }
}

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

/// <summary>Swin v1 PatchMerging: gather 2x2 neighbours (4C), LayerNorm over 4C, then reduction 4C to 2C without bias.</summary>
public sealed class SwinPatchMerging : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm norm;
    public readonly Linear reduction;

    public SwinPatchMerging(int dim, double eps) : base(nameof(SwinPatchMerging))
    {
        norm = new LayerNorm(4 * dim, eps);
        reduction = new Linear(4 * dim, 2 * dim, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return reduction.forward(norm.forward(SwinWindows.MergeNeighbours(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>Swin v1 block, pre-norm: x + attn(norm1(x)) over shifted windows, then x + mlp(norm2(x)).</summary>
public sealed class SwinTransformerBlock : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm norm1;
    public readonly SwinWindowAttention attn;
    public readonly LayerNorm norm2;
    public readonly Mlp mlp;
    private Tensor? attn_mask;

    public SwinTransformerBlock(int dim, int heads, double mlpRatio, bool qkvBias, SwinWindowLayout layout, double dropPathRate)
        : base(nameof(SwinTransformerBlock))
    {
        Layout = layout;
        DropPathRate = dropPathRate;
        norm1 = new LayerNorm(dim, 1e-5);
        attn = new SwinWindowAttention(dim, heads, layout, qkvBias);
        norm2 = new LayerNorm(dim, 1e-5);
        mlp = new Mlp(dim, (long)(dim * mlpRatio));
        RegisterComponents();
        // Registered after RegisterComponents, which would make a Tensor field a persistent buffer.
        if (layout.IsShifted)
        {
            attn_mask = SwinWindows.ShiftMask(layout);
            register_buffer(nameof(attn_mask), attn_mask, persistent: false);
        }
    }

    public SwinWindowLayout Layout { get; }

    public double DropPathRate { get; }

    public IEnumerable<(string Name, Tensor Buffer)> NonPersistentBuffers()
    {
        if (attn_mask is not null) yield return (nameof(attn_mask), attn_mask);
        yield return ($"attn.{nameof(SwinWindowAttention.relative_position_index)}", attn.relative_position_index);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var attended = x + DropPath(SwinWindows.Attend(norm1.forward(x), Layout, attn.forward, attn_mask));
        var tokens = attended.reshape(batch, -1, channels);
        tokens = tokens + DropPath(mlp.forward(norm2.forward(tokens)));
        return tokens.reshape(batch, height, width, channels).MoveToOuterDisposeScope();
    }

    private Tensor DropPath(Tensor residual) => StochasticDepth.DropPath(residual, DropPathRate, training);

    // TorchSharp 0.107 leaves non-persistent buffers out of named_buffers, so Module.to() would not move them.
    protected override void _toEpilog(ScalarType? dtype, torch.Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        if (attn_mask is null) return;
        attn_mask = SwinWindows.MoveBuffer(attn_mask, dtype, device);
        ConditionallyRegisterBuffer(nameof(attn_mask), attn_mask, persistent: false);
    }
}

/// <summary>
/// Swin v1 window attention: softmax(q k^T / sqrt(head_dim) + relative position bias + shift mask) v, then proj.
/// The bias for tokens i, j is relative_position_bias_table[relative_position_index[i, j]], per head.
/// </summary>
public sealed class SwinWindowAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    public readonly Parameter relative_position_bias_table;
    public readonly Linear qkv;
    public readonly Linear proj;
    private readonly int heads;
    private readonly double scale;

    public SwinWindowAttention(int dim, int heads, SwinWindowLayout layout, bool qkvBias) : base(nameof(SwinWindowAttention))
    {
        this.heads = heads;
        scale = Math.Pow(dim / heads, -0.5);
        relative_position_bias_table = new Parameter(
            empty((2 * layout.WindowHeight - 1) * (2 * layout.WindowWidth - 1), heads));
        TimmInit.TruncatedNormal(relative_position_bias_table, std: 0.02);
        qkv = new Linear(dim, 3 * dim, qkvBias);
        proj = new Linear(dim, dim);
        RegisterComponents();
        relative_position_index = SwinWindows.RelativePositionIndex(layout.WindowHeight, layout.WindowWidth);
        register_buffer(nameof(relative_position_index), relative_position_index, persistent: false);
    }

    public Tensor relative_position_index { get; private set; }

    /// <summary>x: [B * windows, N, C]; mask: [windows, N, N] or null.</summary>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var (windows, tokens) = (x.shape[0], x.shape[1]);
        var qkvHeads = qkv.forward(x).reshape(windows, tokens, 3, heads, -1).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (qkvHeads[0], qkvHeads[1], qkvHeads[2]);
        using var scaleScalar = scale.ToScalar();
        var logits = Autocast.ToFloat32(matmul(q.mul(scaleScalar), k.transpose(-2, -1))) + RelativePositionBias(tokens);
        if (mask is not null) logits = SwinWindows.AddMask(logits, mask);
        var weights = softmax(logits, -1);
        var attended = matmul(Autocast.ForCompute(weights), Autocast.ForCompute(v)).transpose(1, 2).reshape(windows, tokens, -1);
        return proj.forward(attended).MoveToOuterDisposeScope();
    }

    private Tensor RelativePositionBias(long tokens) =>
        relative_position_bias_table.index_select(0, relative_position_index.view(-1))
            .view(tokens, tokens, -1).permute(2, 0, 1).unsqueeze(0);

    protected override void _toEpilog(ScalarType? dtype, torch.Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        relative_position_index = SwinWindows.MoveBuffer(relative_position_index, dtype, device);
        ConditionallyRegisterBuffer(nameof(relative_position_index), relative_position_index, persistent: false);
    }
}

/// <summary>timm's drop_path (stochastic depth) for a residual branch.</summary>
public static class StochasticDepth
{
    /// <summary>
    /// In training, zeroes the whole branch of each sample with probability <paramref name="rate"/> and scales
    /// the kept ones by 1 / (1 - rate); the identity in eval or at rate 0.
    /// </summary>
    public static Tensor DropPath(Tensor residual, double rate, bool training)
    {
        if (rate == 0 || !training) return residual;
        var keep = 1 - rate;
        var shape = new long[residual.dim()];
        Array.Fill(shape, 1L);
        shape[0] = residual.shape[0];
        using var kept = empty(shape, residual.dtype, residual.device).bernoulli_(keep);
        using var keepScalar = keep.ToScalar();
        if (keep > 0) kept.div_(keepScalar);
        return residual * kept;
    }
}
