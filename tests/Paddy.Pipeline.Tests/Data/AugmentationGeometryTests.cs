using Paddy.Pipeline.Data;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Data;

public class AugmentationGeometryTests
{
    private static void AssertMatrix(double[,] expected, double[,] actual, int precision = 12)
    {
        Assert.Equal(expected.GetLength(0), actual.GetLength(0));
        for (var i = 0; i < expected.GetLength(0); i++)
        for (var j = 0; j < expected.GetLength(1); j++)
            Assert.Equal(expected[i, j], actual[i, j], precision);
    }

    [Fact]
    public void Flip_negates_x_only()
    {
        AssertMatrix(new double[,] { { -1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } }, AffineMatrices.Flip(true));
        AssertMatrix(AffineMatrices.Identity(), AffineMatrices.Flip(false));
    }

    [Fact]
    public void Rotation_by_30_degrees_is_cos_sin_with_fastai_signs()
    {
        var c = Math.Sqrt(3) / 2;
        AssertMatrix(new double[,] { { c, 0.5, 0 }, { -0.5, c, 0 }, { 0, 0, 1 } }, AffineMatrices.Rotation(30));
    }

    [Fact]
    public void Zoom_by_2_at_the_right_top_corner()
    {
        // s = 1/2; centre offsets (1 - s)(2 pct - 1): column pct 1 -> +0.5, row pct 0 -> -0.5.
        AssertMatrix(new double[,] { { 0.5, 0, 0.5 }, { 0, 0.5, -0.5 }, { 0, 0, 1 } }, AffineMatrices.Zoom(2, 1, 0));
    }

    [Fact]
    public void Composition_is_flip_then_rotation_then_zoom_left_to_right()
    {
        // flip @ rot(90) = [[-1,0],[0,1]] @ [[0,1],[-1,0]] = [[0,-1],[-1,0]]; then @ zoom(2, 0.5, 0.5) halves it.
        var composed = AffineMatrices.Compose(AffineMatrices.Flip(true), AffineMatrices.Rotation(90), AffineMatrices.Zoom(2, 0.5, 0.5));
        AssertMatrix(new double[,] { { 0, -0.5, 0 }, { -0.5, 0, 0 }, { 0, 0, 1 } }, composed);
    }

    [Fact]
    public void Aspect_correction_scales_the_off_diagonal_terms()
    {
        // 640 high, 480 wide: m01 *= 640/480, m10 *= 480/640.
        var m = AffineMatrices.ForImage(AffineMatrices.Rotation(90), height: 640, width: 480);
        AssertMatrix(new double[,] { { 0, 4.0 / 3, 0 }, { -0.75, 0, 0 } }, m);
    }

    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
        public override int Next(int minValue, int maxValue) => minValue;
    }

    [Fact]
    public void Square_crop_of_a_portrait_image_falls_back_to_the_centred_square()
    {
        // Every draw is scale 0.975: sqrt(0.975 * 480 * 640) = 553 > 480 never fits, 10 times over.
        var region = RandomResizedCrop.Train(640, 480, 0.75, (1, 1), new FixedRandom(0.9));
        Assert.Equal(new PixelRegion(0, 80, 480, 480), region);
    }

    [Fact]
    public void Square_crop_at_the_minimum_scale_fits_and_is_placed_randomly()
    {
        // scale 0.75: sqrt(0.75 * 480 * 640) = 480 fits; the position is drawn (this generator gives 0).
        var region = RandomResizedCrop.Train(640, 480, 0.75, (1, 1), new FixedRandom(0.0));
        Assert.Equal(new PixelRegion(0, 0, 480, 480), region);
    }

    [Fact]
    public void Centre_crop_of_landscape_and_square_images()
    {
        Assert.Equal(new PixelRegion(80, 0, 480, 480), RandomResizedCrop.Centre(480, 640, (1, 1)));
        Assert.Equal(new PixelRegion(0, 0, 300, 300), RandomResizedCrop.Centre(300, 300, (1, 1)));
    }

    private static (double X, double Y) ApplyHomography(double[,] h, (double X, double Y) p)
    {
        var w = h[2, 0] * p.X + h[2, 1] * p.Y + h[2, 2];
        return ((h[0, 0] * p.X + h[0, 1] * p.Y + h[0, 2]) / w, (h[1, 0] * p.X + h[1, 1] * p.Y + h[1, 2]) / w);
    }

    [Fact]
    public void Warp_homography_maps_each_moved_corner_back_to_its_original()
    {
        var h = PerspectiveWarp.Homography(0.15, -0.1);
        var targets = PerspectiveWarp.TargetCorners(0.15, -0.1);
        Assert.Equal((-1 + 0.1, -1 - 0.15), targets[0]); // (-1 - y_t, -1 - x_t), by hand
        for (var i = 0; i < 4; i++)
        {
            var (x, y) = ApplyHomography(h, targets[i]);
            Assert.Equal(PerspectiveWarp.OriginalCorners[i].X, x, 10);
            Assert.Equal(PerspectiveWarp.OriginalCorners[i].Y, y, 10);
        }
        AssertMatrix(AffineMatrices.Identity(), PerspectiveWarp.Homography(0, 0), 10);
    }

    [Fact]
    public void Warp_on_a_grid_divides_by_the_projective_term()
    {
        // H = [[1,0,0],[0,1,0],[1,0,1]]: (x, y) -> (x, y) / (x + 1); (1, 1) -> (0.5, 0.5), (0, -0.5) -> (0, -0.5).
        using var grid = tensor(new float[] { 1, 1, 0, -0.5f }, [1, 1, 2, 2]);
        using var h = tensor(new float[] { 1, 0, 0, 0, 1, 0, 1, 0, 1 }, [1, 3, 3]);
        using var warped = PerspectiveWarp.Apply(grid, h);
        Assert.Equal([0.5f, 0.5f, 0f, -0.5f], warped.data<float>().ToArray());
    }

    [Fact]
    public void Warp_moves_corner_pixels_as_in_fastais_own_augment_test()
    {
        // fastai's test: a 5x5 image with ones at the two top corners, warped with x_t = 0, y_t = -0.5, has its
        // ones at columns 1 and 3 of the top row; x_t = -0.5, y_t = 0 moves left-column corners to rows 1 and 3.
        var cases = new[] { (0.0, -0.5, new[] { (0, 0), (0, 4) }, new[] { (0, 1), (0, 3) }),
                            (-0.5, 0.0, new[] { (0, 0), (4, 0) }, new[] { (1, 0), (3, 0) }) };
        foreach (var (xt, yt, ones, expectedOnes) in cases)
        {
            using var scope = NewDisposeScope();
            var image = zeros(1, 1, 5, 5);
            foreach (var (r, c) in ones) image[0, 0, r, c] = 1;
            var h = PerspectiveWarp.Homography(xt, yt);
            var homography = tensor(new[] { h[0, 0], h[0, 1], h[0, 2], h[1, 0], h[1, 1], h[1, 2], h[2, 0], h[2, 1], h[2, 2] }
                .Select(v => (float)v).ToArray(), [1, 3, 3]);
            var identity = eye(2, 3).unsqueeze(0);
            var grid = PerspectiveWarp.Apply(nn.functional.affine_grid(identity, [1, 1, 5, 5], align_corners: true), homography);
            var warped = nn.functional.grid_sample(image, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Reflection, align_corners: true);
            var expected = zeros(1, 1, 5, 5);
            foreach (var (r, c) in expectedOnes) expected[0, 0, r, c] = 1;
            Assert.True(warped.allclose(expected, rtol: 0, atol: 1e-5), warped.ToString(TorchSharp.TensorStringStyle.Numpy));
        }
    }
}
