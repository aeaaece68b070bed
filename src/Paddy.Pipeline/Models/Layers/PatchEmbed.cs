using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>How PatchEmbed hands its patches on, as timm's output_fmt / flatten.</summary>
public enum PatchFormat
{
    /// <summary>Tokens [B, patches, C], patches row-major (timm's flatten=True, ViT).</summary>
    Nlc,

    /// <summary>A channels-last map [B, H, W, C] (timm's output_fmt='NHWC', Swin).</summary>
    Nhwc,
}

/// <summary>
/// timm's PatchEmbed: a patch-sized strided convolution (proj), then the patches in the chosen format and an
/// optional LayerNorm (norm, absent where timm has an Identity). The image size is fixed at construction
/// (timm's strict_img_size): what follows it is sized per patch.
/// </summary>
public sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d proj;
    public readonly LayerNorm? norm;
    private readonly (int Height, int Width) imageSize;
    private readonly PatchFormat format;

    public PatchEmbed((int Height, int Width) imageSize, int patchSize, int inChannels, long embedDim,
        PatchFormat format = PatchFormat.Nlc, double? normEps = null) : base(nameof(PatchEmbed))
    {
        this.imageSize = imageSize;
        this.format = format;
        proj = new Conv2d(inChannels, embedDim, patchSize, stride: patchSize);
        if (normEps is { } eps) norm = new LayerNorm(embedDim, eps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (x.shape[2] != imageSize.Height || x.shape[3] != imageSize.Width)
            throw new ArgumentException(
                $"This model was built for {imageSize.Height}x{imageSize.Width} images (what follows the patch embedding " +
                $"is sized per patch) but got {x.shape[2]}x{x.shape[3]}. Build the model with the image size the data loader produces.");
        using var scope = NewDisposeScope();
        var patches = proj.forward(x);
        var arranged = format == PatchFormat.Nhwc ? patches.permute(0, 2, 3, 1) : patches.flatten(2).transpose(1, 2);
        return (norm is null ? arranged : norm.forward(arranged)).MoveToOuterDisposeScope();
    }
}
