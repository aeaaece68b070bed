using Paddy.Pipeline.Config;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Paddy.Pipeline.Data;

/// <summary>fastai's aug_transforms arguments; the defaults are aug_transforms(size, min_scale=0.75).</summary>
public sealed record AugmentationSettings
{
    public double FlipProbability { get; init; } = 0.5;
    public double MaxRotateDegrees { get; init; } = 10;
    public double MinZoom { get; init; } = 1.0;
    public double MaxZoom { get; init; } = 1.1;
    public double MaxWarp { get; init; } = 0.2;
    public double AffineProbability { get; init; } = 0.75;
    public double MaxLighting { get; init; } = 0.2;
    public double LightingProbability { get; init; } = 0.75;
    public double MinScale { get; init; } = 0.75;
    public (double Min, double Max) CropRatio { get; init; } = (1, 1);
}

/// <summary>The model's input statistics (timm's mean/std), applied last.</summary>
public sealed record Normalization(float[] Mean, float[] Std)
{
    public static Normalization ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
    public static Normalization Half { get; } = new([0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f]);
}

/// <summary>One image's random draws, with the neutral values when a part is not applied.</summary>
public sealed record ImageDraws(bool Flip, double RotationDegrees, double Zoom, double ZoomColumnPct, double ZoomRowPct,
    double WarpX, double WarpY, double Brightness, double Contrast)
{
    public static ImageDraws Neutral { get; } = new(false, 0, 1, 0.5, 0.5, 0, 0, 0.5, 1);

    /// <summary>fastai's draws: each part masked with its own probability (flip 0.5; rotate, zoom and each warp
    /// axis p_affine; brightness and contrast p_lighting), the zoom centre always drawn.</summary>
    public static ImageDraws Draw(AugmentationSettings s, Random random)
    {
        bool Happens(double p) => random.NextDouble() < p;
        double Uniform(double low, double high) => low + (high - low) * random.NextDouble();
        var flip = Happens(s.FlipProbability);
        var rotation = Happens(s.AffineProbability) ? Uniform(-s.MaxRotateDegrees, s.MaxRotateDegrees) : 0;
        var zoom = Happens(s.AffineProbability) ? Uniform(s.MinZoom, s.MaxZoom) : 1;
        var column = Uniform(0, 1);
        var row = Uniform(0, 1);
        var warpX = Happens(s.AffineProbability) ? Uniform(-s.MaxWarp, s.MaxWarp) : 0;
        var warpY = Happens(s.AffineProbability) ? Uniform(-s.MaxWarp, s.MaxWarp) : 0;
        var brightness = Happens(s.LightingProbability) ? Uniform(0.5 * (1 - s.MaxLighting), 0.5 * (1 + s.MaxLighting)) : 0.5;
        var contrast = Happens(s.LightingProbability)
            ? Math.Exp(Uniform(Math.Log(1 - s.MaxLighting), -Math.Log(1 - s.MaxLighting)))
            : 1;
        return new ImageDraws(flip, rotation, zoom, column, row, warpX, warpY, brightness, contrast);
    }

    public double[,] AffineMatrix() => AffineMatrices.Compose(
        AffineMatrices.Flip(Flip), AffineMatrices.Rotation(RotationDegrees), AffineMatrices.Zoom(Zoom, ZoomColumnPct, ZoomRowPct));
}

/// <summary>
/// fastai's batch pipeline on the training device, in fastai's order: IntToFloatTensor (/255); on train the
/// merged affine + warp transform at the item size (bilinear, reflection padding, align_corners); the
/// RandomResizedCropGPU region resized to the output size; on train lighting; then Normalize.
/// </summary>
public sealed class BatchAugmentation(ImageSize outputSize, Normalization normalization, AugmentationSettings? settings = null)
{
    public ImageSize OutputSize { get; } = outputSize;
    public AugmentationSettings Settings { get; } = settings ?? new AugmentationSettings();

    /// <summary>images: uint8 [B,3,H,W] on the device. Returns normalised float32 [B,3,outH,outW].</summary>
    public Tensor Train(Tensor images, Random random)
    {
        using var scope = NewDisposeScope();
        var batch = (int)images.shape[0];
        var (height, width) = ((int)images.shape[2], (int)images.shape[3]);
        var draws = Enumerable.Range(0, batch).Select(_ => ImageDraws.Draw(Settings, random)).ToArray();
        var region = RandomResizedCrop.Train(height, width, Settings.MinScale, Settings.CropRatio, random);

        var x = images.to_type(ScalarType.Float32) / 255;
        x = AffineAndWarp(x, draws);
        x = ResizeRegion(x, region);
        x = Lighting.Apply(x, draws.Select(d => d.Brightness).ToArray(), draws.Select(d => d.Contrast).ToArray());
        return Normalize(x).MoveToOuterDisposeScope();
    }

    /// <summary>Validation and plain test: the centred crop region resized, then normalisation.</summary>
    public Tensor Valid(Tensor images)
    {
        using var scope = NewDisposeScope();
        var region = RandomResizedCrop.Centre((int)images.shape[2], (int)images.shape[3], Settings.CropRatio);
        var x = ResizeRegion(images.to_type(ScalarType.Float32) / 255, region);
        return Normalize(x).MoveToOuterDisposeScope();
    }

    private static Tensor AffineAndWarp(Tensor x, ImageDraws[] draws)
    {
        var (batch, height, width) = (x.shape[0], (int)x.shape[2], (int)x.shape[3]);
        var thetas = new float[batch * 6];
        var homographies = new float[batch * 9];
        for (var i = 0; i < batch; i++)
        {
            var m = AffineMatrices.ForImage(draws[i].AffineMatrix(), height, width);
            var h = PerspectiveWarp.Homography(draws[i].WarpX, draws[i].WarpY);
            for (var k = 0; k < 6; k++) thetas[i * 6 + k] = (float)m[k / 3, k % 3];
            for (var k = 0; k < 9; k++) homographies[i * 9 + k] = (float)h[k / 3, k % 3];
        }
        var theta = tensor(thetas, [batch, 2, 3], device: x.device);
        var grid = F.affine_grid(theta, [batch, 3, height, width], align_corners: true);
        grid = PerspectiveWarp.Apply(grid, tensor(homographies, [batch, 3, 3], device: x.device));
        return GridSample(x, grid);
    }

    private Tensor ResizeRegion(Tensor x, PixelRegion region)
    {
        x = x.slice(2, region.Top, region.Top + region.Height, 1).slice(3, region.Left, region.Left + region.Width, 1);
        using var identity = eye(2, 3, dtype: ScalarType.Float32, device: x.device).unsqueeze(0).expand(x.shape[0], 2, 3);
        var grid = F.affine_grid(identity, [x.shape[0], 3, OutputSize.Height, OutputSize.Width], align_corners: true);
        return GridSample(x, grid);
    }

    /// <summary>
    /// fastai's _grid_sample: before a bilinear sample that shrinks by more than 2x (and more than the zoom), the
    /// image is first area-downsampled by half that factor, so bilinear sampling does not alias.
    /// </summary>
    private static Tensor GridSample(Tensor x, Tensor grid)
    {
        var span = (grid.max() - grid.min()).item<float>();
        var zoom = 2.0 / span;
        var shrink = Math.Min((double)x.shape[2] / grid.shape[1], (double)x.shape[3] / grid.shape[2]) / 2;
        if (shrink > 1 && shrink > zoom)
        {
            var factor = 1 / shrink;
            x = F.adaptive_avg_pool2d(x, [(long)Math.Floor(x.shape[2] * factor), (long)Math.Floor(x.shape[3] * factor)]);
        }
        return F.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Reflection, align_corners: true);
    }

    private Tensor Normalize(Tensor x)
    {
        var mean = tensor(normalization.Mean, device: x.device).view(1, 3, 1, 1);
        var std = tensor(normalization.Std, device: x.device).view(1, 3, 1, 1);
        return (x - mean) / std;
    }
}
