using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Data;

public class BatchAugmentationTests
{
    private static readonly Normalization Identity = new([0f, 0f, 0f], [1f, 1f, 1f]);

    private static Tensor Ramp(int height, int width) =>
        arange(3 * height * width, dtype: ScalarType.Int64).remainder(251).to_type(ScalarType.Byte).view(1, 3, height, width);

    [Fact]
    public void Train_with_only_a_flip_mirrors_the_image_exactly()
    {
        var onlyFlip = new AugmentationSettings
        {
            FlipProbability = 1, AffineProbability = 0, LightingProbability = 0, MinScale = 1,
        };
        using var image = Ramp(8, 8);
        using var result = new BatchAugmentation(new ImageSize(8, 8), Identity, onlyFlip).Train(image, new Random(1));
        using var expected = image.to_type(ScalarType.Float32).flip(3) / 255;
        Assert.True(result.allclose(expected, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Valid_takes_the_centre_square_and_normalises()
    {
        // 6 high, 4 wide -> rows 1..4; same output size, so no resampling.
        using var image = Ramp(6, 4);
        var stats = new Normalization([0.5f, 0.25f, 0f], [2f, 0.5f, 1f]);
        using var result = new BatchAugmentation(new ImageSize(4, 4), stats).Valid(image);
        using var mean = tensor(new[] { 0.5f, 0.25f, 0f }).view(1, 3, 1, 1);
        using var std = tensor(new[] { 2f, 0.5f, 1f }).view(1, 3, 1, 1);
        using var expected = (image.slice(2, 1, 5, 1).to_type(ScalarType.Float32) / 255 - mean) / std;
        Assert.Equal([1L, 3, 4, 4], result.shape);
        Assert.True(result.allclose(expected, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Train_output_has_the_requested_size_and_replays_with_the_same_seed()
    {
        using var image = Ramp(64, 48).expand(4, 3, 64, 48).contiguous();
        var augmentation = new BatchAugmentation(new ImageSize(40, 28), Normalization.ImageNet);
        using var first = augmentation.Train(image, new Random(5));
        using var again = augmentation.Train(image, new Random(5));
        using var other = augmentation.Train(image, new Random(6));
        Assert.Equal([4L, 3, 40, 28], first.shape);
        Assert.True(first.allclose(again, rtol: 0, atol: 0));
        Assert.False(first.allclose(other, rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void Grid_sample_shrinks_as_fastai_computes_it_from_the_grid_width_and_its_last_dimension()
    {
        // fastai: d = min(H_in / coords.shape[-2], W_in / coords.shape[-1]) / 2 with coords [B, H_out, W_out, 2].
        // The seed's convnext_large crop: 480x480 to (320, 224): min(480/224, 480/2)/2 = 1.0714 > 1, so 448x448 first.
        Assert.Equal((448L, 448L), BatchAugmentation.AreaShrinkSize(480, 480, 320, 224, span: 2));
        // A 640x480 item to (320, 224): min(640/224, 240)/2 = 1.4286: floor(640/1.4286) x floor(480/1.4286).
        Assert.Equal((448L, 336L), BatchAugmentation.AreaShrinkSize(640, 480, 320, 224, span: 2));
        // Zoomed in as far as the shrink (z = 2/span >= d): no shrink.
        Assert.Null(BatchAugmentation.AreaShrinkSize(480, 480, 320, 224, span: 1.8));
        Assert.Null(BatchAugmentation.AreaShrinkSize(480, 480, 480, 480, span: 2));
    }

    [Fact]
    public void Valid_resize_of_480_to_320x224_area_shrinks_to_448_then_samples_bilinearly()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(17);
        var image = randint(0, 256, [1, 3, 480, 480], dtype: ScalarType.Byte, generator: generator);
        var result = new BatchAugmentation(new ImageSize(320, 224), Identity).Valid(image);

        var shrunk = nn.functional.adaptive_avg_pool2d(image.to_type(ScalarType.Float32) / 255, [448, 448]);
        var identity = eye(2, 3, dtype: ScalarType.Float32).unsqueeze(0);
        var grid = nn.functional.affine_grid(identity, [1, 3, 320, 224], align_corners: true);
        var expected = nn.functional.grid_sample(shrunk, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Reflection, align_corners: true);
        var unshrunk = nn.functional.grid_sample(image.to_type(ScalarType.Float32) / 255, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Reflection, align_corners: true);

        Assert.Equal([1L, 3, 320, 224], result.shape);
        Assert.True(result.allclose(expected, rtol: 0, atol: 1e-6));
        Assert.False(result.allclose(unshrunk, rtol: 0, atol: 1e-3));
    }
}
