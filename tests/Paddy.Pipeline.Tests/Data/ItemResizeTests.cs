using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using SixLabors.ImageSharp.PixelFormats;

namespace Paddy.Pipeline.Tests.Data;

public class ItemResizeTests
{
    [Theory]
    // portrait 480 wide x 640 high to a square 224: m = 480/224, region 480x480, top = int(pct * 160)
    [InlineData(480, 640, 224, 224, 0.5, 0.5, 0, 80, 480, 480)]
    [InlineData(480, 640, 224, 224, 0.3, 0.25, 0, 40, 480, 480)]
    // landscape 640x480 to (640 high, 480 wide): m = 480/640, region int(0.75*480)=360 wide x 480 high, left int(0.5*280)
    [InlineData(640, 480, 640, 480, 0.5, 0.5, 140, 0, 360, 480)]
    // Paddy's portrait images at (640, 480): the whole image
    [InlineData(480, 640, 640, 480, 0.9, 0.9, 0, 0, 480, 640)]
    public void Crop_region_is_fastais_largest_region_of_the_target_aspect(int width, int height, int targetHeight, int targetWidth,
        double columnPct, double rowPct, int left, int top, int cropWidth, int cropHeight)
    {
        var resize = new ItemResize(new ImageSize(targetHeight, targetWidth), ResizeMethod.Crop);
        Assert.Equal(new PixelRegion(left, top, cropWidth, cropHeight), resize.CropRegion(width, height, columnPct, rowPct));
    }

    [Fact]
    public void Randomness_matters_only_when_the_region_is_smaller_than_the_image()
    {
        var crop = new ItemResize(new ImageSize(640, 480), ResizeMethod.Crop);
        Assert.False(crop.IsRandomFor(480, 640));
        Assert.True(crop.IsRandomFor(640, 480));
        Assert.False(new ItemResize(new ImageSize(224, 224), ResizeMethod.Squish).IsRandomFor(640, 480));
    }

    [Fact]
    public void Squish_resizes_the_whole_image_to_height_by_width()
    {
        using var image = TempFolder.NoiseImage(30, 20, seed: 4);
        using var squished = new ItemResize(new ImageSize(10, 15), ResizeMethod.Squish).Apply(image, 0.5, 0.5);
        Assert.Equal((15, 10), (squished.Width, squished.Height));
    }

    [Fact]
    public void Crop_position_follows_the_pcts()
    {
        // 40 wide x 20 high: left half red, right half blue; a 20x20 crop at pct 0 is red, at pct 1 blue.
        using var image = new SixLabors.ImageSharp.Image<Rgb24>(40, 20);
        for (var y = 0; y < 20; y++)
        for (var x = 0; x < 40; x++)
            image[x, y] = x < 20 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255);
        var resize = new ItemResize(new ImageSize(10, 10), ResizeMethod.Crop);
        using var left = resize.Apply(image, 0, 0.5);
        using var right = resize.Apply(image, 1, 0.5);
        Assert.Equal((10, 10), (left.Width, left.Height));
        for (var x = 0; x < 10; x++)
        {
            Assert.Equal(new Rgb24(255, 0, 0), left[x, 5]);
            Assert.Equal(new Rgb24(0, 0, 255), right[x, 5]);
        }
    }
}
