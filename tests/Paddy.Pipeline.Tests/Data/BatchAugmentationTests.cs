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
}
