using System.Text.Json.Nodes;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models.Layers;
using Paddy.Pipeline.Models.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using LayerNorm = Paddy.Pipeline.Models.Layers.LayerNorm;
using Linear = Paddy.Pipeline.Models.Layers.Linear;

namespace Paddy.Pipeline.Models;

/// <summary>timm's pre-norm transformer Block without layer scale: x + attn(norm1(x)), then x + mlp(norm2(x)).</summary>
public sealed class VisionTransformerBlock : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm norm1;
    public readonly Attention attn;
    public readonly LayerNorm norm2;
    public readonly Mlp mlp;

    public VisionTransformerBlock(long dim, long numHeads, double mlpRatio) : base(nameof(VisionTransformerBlock))
    {
        norm1 = new LayerNorm(dim, VisionTransformer.NormEps);
        attn = new Attention(dim, numHeads);
        norm2 = new LayerNorm(dim, VisionTransformer.NormEps);
        mlp = new Mlp(dim, (long)(dim * mlpRatio));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = x.add(attn.forward(norm1.forward(x)), HeldScalars.One);
        return y.add(mlp.forward(norm2.forward(y)), HeldScalars.One).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// timm's VisionTransformer as the augreg ViTs use it: class token, learned pos_embed (class slot included),
/// pre-norm blocks, final norm over all tokens, class-token pooling, Linear head named "head".
/// The input size is fixed at construction; pretrained weights made for another grid are resampled on load.
/// </summary>
public sealed class VisionTransformer : TimmModel, IAdaptsPretrainedWeights
{
    public const double NormEps = 1e-6;
    private const int PrefixTokens = 1;

    public readonly Parameter cls_token;
    public readonly Parameter pos_embed;
    public readonly PatchEmbed patch_embed;
    public readonly Sequential blocks;
    public readonly LayerNorm norm;
    public readonly Linear? head;
    private readonly long embedDim;
    private readonly (int Height, int Width) grid;

    public VisionTransformer((int Height, int Width) imageSize, int patchSize, long embedDim, int depth, long numHeads,
        int numClasses = 1000, int inChannels = 3, double mlpRatio = 4.0) : base(nameof(VisionTransformer))
    {
        if (imageSize.Height % patchSize != 0 || imageSize.Width % patchSize != 0)
            throw new ArgumentException(
                $"ViT image size {imageSize.Height}x{imageSize.Width} is not a multiple of the patch size {patchSize}; choose a size divisible by {patchSize}.");
        this.embedDim = embedDim;
        grid = (imageSize.Height / patchSize, imageSize.Width / patchSize);
        cls_token = new Parameter(zeros(1, 1, embedDim));
        pos_embed = new Parameter(zeros(1, PrefixTokens + grid.Height * grid.Width, embedDim));
        patch_embed = new PatchEmbed(imageSize, patchSize, inChannels, embedDim);
        blocks = nn.Sequential(Enumerable.Range(0, depth)
            .Select(_ => (nn.Module<Tensor, Tensor>)new VisionTransformerBlock(embedDim, numHeads, mlpRatio))
            .ToArray());
        norm = new LayerNorm(embedDim, NormEps);
        if (numClasses > 0) head = new Linear(embedDim, numClasses);
        RegisterComponents();
        InitialiseAsTimm();
    }

    public override long NumFeatures => embedDim;
    public override bool FastaiPoolsFeatures => false;

    /// <summary>Tokens after the final norm: [B, 1 + patches, C], class token first, patches row-major.</summary>
    public override Tensor forward_features(Tensor x)
    {
        using var scope = NewDisposeScope();
        var patches = patch_embed.forward(x);
        var classTokens = cls_token.expand(patches.shape[0], -1, -1).to_type(patches.dtype);
        var tokens = cat([classTokens, patches], 1).add(pos_embed, HeldScalars.One);
        return norm.forward(blocks.forward(tokens)).MoveToOuterDisposeScope();
    }

    /// <summary>The class token (fc_norm is Identity for these models), then the head unless preLogits.</summary>
    public override Tensor forward_head(Tensor features, bool preLogits = false)
    {
        using var scope = NewDisposeScope();
        var pooled = features[.., 0];
        var result = preLogits || head is null ? pooled : head.forward(pooled);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>timm's resample_abs_pos_embed when the file's patch grid differs from this model's.</summary>
    public void AdaptPretrainedWeights(IDictionary<string, Tensor> tensors)
    {
        if (!tensors.TryGetValue(nameof(pos_embed), out var stored) || stored.shape.SequenceEqual(pos_embed.shape))
            return;
        long storedPatches = stored.shape[1] - PrefixTokens;
        long side = (long)Math.Round(Math.Sqrt(storedPatches));
        // A file whose grid is not square cannot be resampled without its size; the loader reports the mismatch.
        if (stored.dim() != 3 || side * side != storedPatches || stored.shape[2] != embedDim) return;
        tensors[nameof(pos_embed)] = PosEmbed.ResampleAbsolute(stored, (side, side), grid, PrefixTokens);
    }

    /// <summary>timm's default init: pos_embed trunc_normal(.02), cls_token normal(1e-6), Linear trunc_normal(.02) with zero bias.</summary>
    private void InitialiseAsTimm()
    {
        using var noGrad = no_grad();
        TimmInit.TruncatedNormal(pos_embed, std: 0.02);
        nn.init.normal_(cls_token, std: 1e-6);
        TimmInit.Linears(this);
    }

    /// <summary>Builds from timm constructor kwargs (img_size, patch_size, embed_dim, depth, num_heads, num_classes, in_chans, mlp_ratio).</summary>
    public static VisionTransformer FromTimmArguments(JsonObject kwargs)
    {
        var args = new TimmArguments(nameof(VisionTransformer), kwargs);
        var model = new VisionTransformer(
            imageSize: args.IntPair("img_size", (224, 224)),
            patchSize: args.Int("patch_size", 16),
            embedDim: args.Int("embed_dim", 768),
            depth: args.Int("depth", 12),
            numHeads: args.Int("num_heads", 12),
            numClasses: args.Int("num_classes", 1000),
            inChannels: args.Int("in_chans", 3),
            mlpRatio: args.Double("mlp_ratio", 4.0));
        args.EnsureAllRead();
        return model;
    }

    public static IReadOnlyList<ModelDefinition> Definitions { get; } = BuildDefinitions();

    private static IReadOnlyList<ModelDefinition> BuildDefinitions()
    {
        var variants = new (string Arch, int EmbedDim, int Depth, int Heads)[]
        {
            ("vit_tiny_patch16_224", 192, 12, 3),
            ("vit_small_patch16_224", 384, 12, 6),
            ("vit_base_patch16_224", 768, 12, 12),
            ("vit_large_patch16_224", 1024, 24, 16),
        };
        double[] inception = PretrainedConfig.InceptionMean, imagenetMean = PretrainedConfig.ImagenetMean, imagenetStd = PretrainedConfig.ImagenetStd;
        // Tags in timm's default_cfgs order: the first tag of an architecture is its default.
        var tags = new (string Arch, string Tag, int Classes, double[] Mean, double[] Std)[]
        {
            ("vit_base_patch16_224", "augreg2_in21k_ft_in1k", 1000, inception, inception),
            ("vit_tiny_patch16_224", "augreg_in21k_ft_in1k", 1000, inception, inception),
            ("vit_small_patch16_224", "augreg_in21k_ft_in1k", 1000, inception, inception),
            ("vit_base_patch16_224", "augreg_in21k_ft_in1k", 1000, inception, inception),
            ("vit_large_patch16_224", "augreg_in21k_ft_in1k", 1000, inception, inception),
            ("vit_base_patch16_224", "orig_in21k_ft_in1k", 1000, inception, inception),
            ("vit_small_patch16_224", "augreg_in1k", 1000, inception, inception),
            ("vit_base_patch16_224", "augreg_in1k", 1000, inception, inception),
            ("vit_base_patch16_224", "orig_in21k", 0, inception, inception),
            ("vit_large_patch16_224", "orig_in21k", 0, inception, inception),
            ("vit_tiny_patch16_224", "augreg_in21k", 21843, inception, inception),
            ("vit_small_patch16_224", "augreg_in21k", 21843, inception, inception),
            ("vit_base_patch16_224", "augreg_in21k", 21843, inception, inception),
            ("vit_large_patch16_224", "augreg_in21k", 21843, inception, inception),
            ("vit_base_patch16_224", "mae", 0, imagenetMean, imagenetStd),
            ("vit_large_patch16_224", "mae", 0, imagenetMean, imagenetStd),
        };
        // timm's register_model_deprecations for these tags.
        var aliases = new Dictionary<string, string[]>
        {
            ["vit_tiny_patch16_224.augreg_in21k"] = ["vit_tiny_patch16_224_in21k"],
            ["vit_small_patch16_224.augreg_in21k"] = ["vit_small_patch16_224_in21k"],
            ["vit_base_patch16_224.augreg_in21k"] = ["vit_base_patch16_224_in21k"],
            ["vit_large_patch16_224.augreg_in21k"] = ["vit_large_patch16_224_in21k"],
        };
        var seen = new HashSet<string>();
        return tags.Select(t =>
        {
            var variant = variants.Single(v => v.Arch == t.Arch);
            var name = $"{t.Arch}.{t.Tag}";
            return new ModelDefinition(t.Arch, t.Tag, IsDefaultTag: seen.Add(t.Arch),
                new PretrainedConfig(3, 224, 224, FixedInputSize: true, "bicubic", 0.9, t.Mean, t.Std, t.Classes, $"timm/{name}"),
                aliases.GetValueOrDefault(name, []),
                options => new VisionTransformer((options.ImageHeight, options.ImageWidth), 16, variant.EmbedDim,
                    variant.Depth, variant.Heads, options.NumClasses));
        }).ToList();
    }
}
