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
/// timm's ConvNeXtBlock: depthwise conv, LayerNorm, MLP (x4), layer scale, residual. With convMlp the norm and
/// MLP work on NCHW (LayerNorm2d, 1x1 convs); otherwise on NHWC (LayerNorm, Linear), as timm chooses.
/// </summary>
public sealed class ConvNeXtBlock : nn.Module<Tensor, Tensor>
{
    public readonly Parameter? gamma;
    public readonly Conv2d conv_dw;
    public readonly LayerNorm norm;
    public readonly Mlp mlp;
    private readonly bool convMlp;

    public ConvNeXtBlock(long channels, int kernelSize, bool convMlp, double? layerScaleInit) : base(nameof(ConvNeXtBlock))
    {
        this.convMlp = convMlp;
        // timm registers gamma before its submodules, so it comes first in the state dict.
        if (layerScaleInit is { } init) gamma = new Parameter(full(channels, init));
        conv_dw = new Conv2d(channels, channels, kernelSize, padding: kernelSize / 2, groups: channels);
        norm = convMlp ? new LayerNorm2d(channels, ConvNeXt.NormEps) : new LayerNorm(channels, ConvNeXt.NormEps);
        mlp = new Mlp(channels, 4 * channels, useConv: convMlp);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = conv_dw.forward(x);
        y = convMlp
            ? mlp.forward(norm.forward(y))
            : mlp.forward(norm.forward(y.permute(0, 2, 3, 1))).permute(0, 3, 1, 2);
        if (gamma is not null) y = y.mul(gamma.reshape(1, -1, 1, 1));
        return y.add(x, HeldScalars.One).MoveToOuterDisposeScope();
    }
}

/// <summary>timm's ConvNeXtStage: an optional downsample (LayerNorm2d, 2x2 stride-2 conv), then the blocks.</summary>
public sealed class ConvNeXtStage : nn.Module<Tensor, Tensor>
{
    public readonly Sequential? downsample;
    public readonly Sequential blocks;

    public ConvNeXtStage(long inChannels, long outChannels, bool downsamples, int depth, int kernelSize, bool convMlp,
        double? layerScaleInit) : base(nameof(ConvNeXtStage))
    {
        if (downsamples || inChannels != outChannels)
            downsample = nn.Sequential(
                new LayerNorm2d(inChannels, ConvNeXt.NormEps),
                new Conv2d(inChannels, outChannels, kernelSize: 2, stride: 2));
        blocks = nn.Sequential(Enumerable.Range(0, depth)
            .Select(_ => (nn.Module<Tensor, Tensor>)new ConvNeXtBlock(outChannels, kernelSize, convMlp, layerScaleInit))
            .ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = downsample is null ? x : downsample.forward(x);
        return blocks.forward(y).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// timm's ConvNeXt (patch stem, four stages, pool-norm-fc head). Parameter names equal timm's state-dict keys.
/// Fully convolutional: any input height and width that survive the /32 reduction work.
/// </summary>
public sealed class ConvNeXt : TimmModel
{
    public const double NormEps = 1e-6;

    public readonly Sequential stem;
    public readonly Sequential stages;
    public readonly NormMlpClassifierHead head;
    private readonly long numFeatures;

    public ConvNeXt(int[] depths, int[] dims, int numClasses = 1000, int inChannels = 3, bool convMlp = false,
        double? layerScaleInit = 1e-6, int kernelSize = 7, int patchSize = 4) : base(nameof(ConvNeXt))
    {
        if (depths.Length != dims.Length || depths.Length == 0)
            throw new ArgumentException($"ConvNeXt needs one depth per stage width; got depths [{string.Join(",", depths)}] and dims [{string.Join(",", dims)}].");
        stem = nn.Sequential(
            new Conv2d(inChannels, dims[0], patchSize, stride: patchSize),
            new LayerNorm2d(dims[0], NormEps));
        stages = nn.Sequential(Enumerable.Range(0, depths.Length)
            .Select(i => (nn.Module<Tensor, Tensor>)new ConvNeXtStage(i == 0 ? dims[0] : dims[i - 1], dims[i],
                downsamples: i > 0, depths[i], kernelSize, convMlp, layerScaleInit))
            .ToArray());
        numFeatures = dims[^1];
        head = new NormMlpClassifierHead(numFeatures, numClasses, NormEps);
        RegisterComponents();
        InitialiseAsTimm();
    }

    public override long NumFeatures => numFeatures;
    public override bool FastaiPoolsFeatures => true;

    public override Tensor forward_features(Tensor x)
    {
        using var scope = NewDisposeScope();
        return stages.forward(stem.forward(x)).MoveToOuterDisposeScope();
    }

    public override Tensor forward_head(Tensor features, bool preLogits = false) => head.forward(features, preLogits);

    /// <summary>timm's _init_weights: conv and linear weights trunc_normal(std .02), biases zero.</summary>
    private void InitialiseAsTimm()
    {
        using var noGrad = no_grad();
        foreach (var (_, module) in named_modules())
        {
            var (weight, bias) = module switch
            {
                Conv2d conv => (conv.weight, conv.bias),
                Linear linear => (linear.weight, linear.bias),
                _ => ((Parameter?)null, (Parameter?)null),
            };
            if (weight is null) continue;
            TimmInit.TruncatedNormal(weight, std: 0.02);
            bias?.zero_();
        }
    }

    /// <summary>Builds from timm constructor kwargs (depths, dims, num_classes, in_chans, conv_mlp, ls_init_value, kernel_sizes, patch_size).</summary>
    public static ConvNeXt FromTimmArguments(JsonObject kwargs)
    {
        var args = new TimmArguments(nameof(ConvNeXt), kwargs);
        var model = new ConvNeXt(
            depths: args.IntList("depths", [3, 3, 9, 3]),
            dims: args.IntList("dims", [96, 192, 384, 768]),
            numClasses: args.Int("num_classes", 1000),
            inChannels: args.Int("in_chans", 3),
            convMlp: args.Bool("conv_mlp", false),
            layerScaleInit: args.NullableDouble("ls_init_value", 1e-6),
            kernelSize: args.Int("kernel_sizes", 7),
            patchSize: args.Int("patch_size", 4));
        args.EnsureAllRead();
        return model;
    }

    public static IReadOnlyList<ModelDefinition> Definitions { get; } = BuildDefinitions();

    private static IReadOnlyList<ModelDefinition> BuildDefinitions()
    {
        // Widths and depths as timm's register functions give them; the small ones use conv_mlp.
        var variants = new (string Arch, int[] Depths, int[] Dims, bool ConvMlp)[]
        {
            ("convnext_atto", [2, 2, 6, 2], [40, 80, 160, 320], true),
            ("convnext_femto", [2, 2, 6, 2], [48, 96, 192, 384], true),
            ("convnext_pico", [2, 2, 6, 2], [64, 128, 256, 512], true),
            ("convnext_nano", [2, 2, 8, 2], [80, 160, 320, 640], true),
            ("convnext_tiny", [3, 3, 9, 3], [96, 192, 384, 768], false),
            ("convnext_small", [3, 3, 27, 3], [96, 192, 384, 768], false),
            ("convnext_base", [3, 3, 27, 3], [128, 256, 512, 1024], false),
            ("convnext_large", [3, 3, 27, 3], [192, 384, 768, 1536], false),
        };
        // Tags in timm's default_cfgs order: the first tag of an architecture is its default.
        var tags = new (string Arch, string Tag, int Classes, double CropPct)[]
        {
            ("convnext_atto", "d2_in1k", 1000, 0.875),
            ("convnext_femto", "d1_in1k", 1000, 0.875),
            ("convnext_pico", "d1_in1k", 1000, 0.875),
            ("convnext_nano", "in12k_ft_in1k", 1000, 0.95),
            ("convnext_nano", "d1h_in1k", 1000, 0.95),
            ("convnext_nano", "in12k", 11821, 0.95),
            ("convnext_tiny", "in12k_ft_in1k", 1000, 0.95),
            ("convnext_tiny", "in12k", 11821, 0.95),
            ("convnext_tiny", "fb_in22k_ft_in1k", 1000, 0.875),
            ("convnext_tiny", "fb_in1k", 1000, 0.875),
            ("convnext_tiny", "fb_in22k", 21841, 0.875),
            ("convnext_small", "in12k_ft_in1k", 1000, 0.95),
            ("convnext_small", "in12k", 11821, 0.95),
            ("convnext_small", "fb_in22k_ft_in1k", 1000, 0.875),
            ("convnext_small", "fb_in1k", 1000, 0.875),
            ("convnext_small", "fb_in22k", 21841, 0.875),
            ("convnext_base", "fb_in22k_ft_in1k", 1000, 0.875),
            ("convnext_base", "fb_in1k", 1000, 0.875),
            ("convnext_base", "fb_in22k", 21841, 0.875),
            ("convnext_large", "fb_in22k_ft_in1k", 1000, 0.875),
            ("convnext_large", "fb_in1k", 1000, 0.875),
            ("convnext_large", "fb_in22k", 21841, 0.875),
        };
        // timm's register_model_deprecations for these tags.
        var aliases = new Dictionary<string, string[]>
        {
            ["convnext_tiny.fb_in22k_ft_in1k"] = ["convnext_tiny_in22ft1k"],
            ["convnext_small.fb_in22k_ft_in1k"] = ["convnext_small_in22ft1k"],
            ["convnext_base.fb_in22k_ft_in1k"] = ["convnext_base_in22ft1k"],
            ["convnext_large.fb_in22k_ft_in1k"] = ["convnext_large_in22ft1k"],
            ["convnext_tiny.fb_in22k"] = ["convnext_tiny_in22k"],
            ["convnext_small.fb_in22k"] = ["convnext_small_in22k"],
            ["convnext_base.fb_in22k"] = ["convnext_base_in22k"],
            ["convnext_large.fb_in22k"] = ["convnext_large_in22k"],
        };
        var seen = new HashSet<string>();
        return tags.Select(t =>
        {
            var variant = variants.Single(v => v.Arch == t.Arch);
            var name = $"{t.Arch}.{t.Tag}";
            return new ModelDefinition(t.Arch, t.Tag, IsDefaultTag: seen.Add(t.Arch),
                new PretrainedConfig(3, 224, 224, FixedInputSize: false, "bicubic", t.CropPct, PretrainedConfig.ImagenetMean, PretrainedConfig.ImagenetStd,
                    t.Classes, $"timm/{name}"),
                aliases.GetValueOrDefault(name, []),
                options => new ConvNeXt(variant.Depths, variant.Dims, options.NumClasses, convMlp: variant.ConvMlp));
        }).ToList();
    }
}
