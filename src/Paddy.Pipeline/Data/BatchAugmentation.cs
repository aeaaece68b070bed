using Paddy.Pipeline.Config;
using Paddy.Pipeline.Device;
using F = TorchSharp.torch.nn.functional;
using TorchSharp;
using static TorchSharp.torch;

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
/// RandomResizedCropGPU region resized to the output size; on train lighting; then Normalize. A batch costs no host
/// read and one upload: the per-image parameters are drawn on the host and copied in one non-blocking transfer,
/// and each grid's extent, which fastai reads back from the device, is worked out from the matrices on the host.
/// </summary>
public sealed class BatchAugmentation(ImageSize outputSize, Normalization normalization, AugmentationSettings? settings = null)
{
    private const int ThetaValues = 6;
    private const int HomographyValues = 9;
    private (Tensor Mean, Tensor Std)? statistics;

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

        var (thetas, homographies, span) = AffineAndWarpParameters(draws, height, width);
        var parameters = new float[batch * (ThetaValues + HomographyValues + 2)];
        thetas.CopyTo(parameters, 0);
        homographies.CopyTo(parameters, thetas.Length);
        for (var i = 0; i < batch; i++)
        {
            parameters[batch * (ThetaValues + HomographyValues) + i] = Lighting.Shift(draws[i].Brightness);
            parameters[batch * (ThetaValues + HomographyValues + 1) + i] = (float)draws[i].Contrast;
        }
        var onDevice = HostToDevice.Transfer(tensor(parameters), images.device);
        var theta = onDevice.narrow(0, 0, batch * ThetaValues).view(batch, 2, 3);
        var homography = onDevice.narrow(0, batch * ThetaValues, batch * HomographyValues).view(batch, 3, 3);
        var shift = onDevice.narrow(0, batch * (ThetaValues + HomographyValues), batch);
        var contrast = onDevice.narrow(0, batch * (ThetaValues + HomographyValues + 1), batch);

        var x = ToUnitRange(images);
        var grid = F.affine_grid(theta, [batch, 3, height, width], align_corners: true);
        x = GridSample(x, PerspectiveWarp.Apply(grid, homography), span);
        x = ResizeRegion(x, region);
        x = Lighting.Apply(x, shift, contrast);
        return Normalize(x).MoveToOuterDisposeScope();
    }

    /// <summary>Validation and plain test: the centred crop region resized, then normalisation.</summary>
    public Tensor Valid(Tensor images)
    {
        using var scope = NewDisposeScope();
        var region = RandomResizedCrop.Centre((int)images.shape[2], (int)images.shape[3], Settings.CropRatio);
        var x = ResizeRegion(ToUnitRange(images), region);
        return Normalize(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The size fastai's _grid_sample first area-shrinks an [inH, inW] image to before sampling an [outH, outW] grid
    /// whose coordinates span <paramref name="span"/> (max - min over x and y), or null when it samples directly.
    /// fastai computes the factor as min(x.shape[-2] / coords.shape[-2], x.shape[-1] / coords.shape[-1]) / 2 with
    /// coords [B, outH, outW, 2], i.e. min(inH / outW, inW / 2) / 2: not the intended min(inH / outH, inW / outW) / 2
    /// unless the output is square, and reproduced here as fastai computes it.
    /// </summary>
    public static (long Height, long Width)? AreaShrinkSize(long inHeight, long inWidth, long outHeight, long outWidth, double span)
    {
        _ = outHeight;
        var zoom = 1 / span * 2;
        var shrink = Math.Min((double)inHeight / outWidth, inWidth / 2.0) / 2;
        if (!(shrink > 1 && shrink > zoom)) return null;
        // F.interpolate(scale_factor=1/d, mode='area', recompute_scale_factor=True): floor(size * (1/d)).
        var factor = 1 / shrink;
        return ((long)Math.Floor(inHeight * factor), (long)Math.Floor(inWidth * factor));
    }

    /// <summary>
    /// The per-image 2x3 affine matrices and 3x3 homographies (float32, row-major, image after image), and the extent
    /// of the grid they produce. The grid is the image of the output lattice, whose extreme points are its corners;
    /// an affine map and a homography that keeps the corners on one side of its horizon both map that lattice's
    /// corners to the corners of a convex quadrilateral, so its max and min are among the mapped corners.
    /// </summary>
    private static (float[] Thetas, float[] Homographies, double Span) AffineAndWarpParameters(ImageDraws[] draws, int height, int width)
    {
        var batch = draws.Length;
        var thetas = new float[batch * ThetaValues];
        var homographies = new float[batch * HomographyValues];
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        var xs = LatticeEnds(width);
        var ys = LatticeEnds(height);
        for (var i = 0; i < batch; i++)
        {
            var m = AffineMatrices.ForImage(draws[i].AffineMatrix(), height, width);
            var h = PerspectiveWarp.Homography(draws[i].WarpX, draws[i].WarpY);
            for (var k = 0; k < ThetaValues; k++) thetas[i * ThetaValues + k] = (float)m[k / 3, k % 3];
            for (var k = 0; k < HomographyValues; k++) homographies[i * HomographyValues + k] = (float)h[k / 3, k % 3];
            foreach (var x in xs)
            foreach (var y in ys)
            {
                // As the device computes it: affine_grid with the float32 matrix, then apply_perspective.
                double Theta(int k) => thetas[i * ThetaValues + k];
                double H(int k) => homographies[i * HomographyValues + k];
                var gx = Theta(0) * x + Theta(1) * y + Theta(2);
                var gy = Theta(3) * x + Theta(4) * y + Theta(5);
                var w = H(6) * gx + H(7) * gy + H(8);
                var wx = (H(0) * gx + H(1) * gy + H(2)) / w;
                var wy = (H(3) * gx + H(4) * gy + H(5)) / w;
                min = Math.Min(min, Math.Min(wx, wy));
                max = Math.Max(max, Math.Max(wx, wy));
            }
        }
        return (thetas, homographies, max - min);
    }

    /// <summary>The first and last coordinates affine_grid gives an axis of n pixels with align_corners (one pixel: 0).</summary>
    private static double[] LatticeEnds(int n) => n > 1 ? [-1, 1] : [0];

    private static Tensor ToUnitRange(Tensor images)
    {
        using var maximum = 255.0.ToScalar();
        return images.to_type(ScalarType.Float32).div(maximum);
    }

    private Tensor ResizeRegion(Tensor x, PixelRegion region)
    {
        x = x.slice(2, region.Top, region.Top + region.Height, 1).slice(3, region.Left, region.Left + region.Width, 1);
        using var identity = eye(2, 3, dtype: ScalarType.Float32, device: x.device).unsqueeze(0).expand(x.shape[0], 2, 3);
        var grid = F.affine_grid(identity, [x.shape[0], 3, OutputSize.Height, OutputSize.Width], align_corners: true);
        // The identity grid runs from -1 to 1 on both axes (0 on an axis of one pixel).
        var span = OutputSize.Height > 1 || OutputSize.Width > 1 ? 2.0 : 0.0;
        return GridSample(x, grid, span);
    }

    /// <summary>fastai's _grid_sample: bilinear sampling, after an area shrink when <see cref="AreaShrinkSize"/> asks for one.</summary>
    private static Tensor GridSample(Tensor x, Tensor grid, double span)
    {
        if (AreaShrinkSize(x.shape[2], x.shape[3], grid.shape[1], grid.shape[2], span) is { } size)
            x = F.adaptive_avg_pool2d(x, [size.Height, size.Width]);
        return F.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Reflection, align_corners: true);
    }

    private Tensor Normalize(Tensor x)
    {
        if (statistics is not { } stats || stats.Mean.device_type != x.device_type || stats.Mean.device_index != x.device_index)
        {
            // Uploaded once per device, not once per batch.
            using var scope = NewDisposeScope();
            stats = (tensor(normalization.Mean, device: x.device).view(1, 3, 1, 1).DetachFromDisposeScope(),
                tensor(normalization.Std, device: x.device).view(1, 3, 1, 1).DetachFromDisposeScope());
            statistics = stats;
        }
        return x.sub(stats.Mean).div_(stats.Std);
    }
}
