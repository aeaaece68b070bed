using Paddy.Pipeline.Data;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Data;

public class LightingTests
{
    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    [Fact]
    public void Brightness_then_contrast_in_logit_space()
    {
        // y = sigmoid((ln(x/(1-x)) + ln(b/(1-b))) * c), for two images with their own b and c.
        using var x = tensor(new float[] { 0.3f, 0.9f }, [2, 1, 1, 1]);
        using var y = Lighting.Apply(x, [0.6, 0.45], [1.25, 0.8]);
        var expected0 = Sigmoid((Math.Log(0.3 / 0.7) + Math.Log(0.6 / 0.4)) * 1.25);
        var expected1 = Sigmoid((Math.Log(0.9 / 0.1) + Math.Log(0.45 / 0.55)) * 0.8);
        var actual = y.data<float>().ToArray();
        Assert.Equal(expected0, actual[0], 5);
        Assert.Equal(expected1, actual[1], 5);
    }

    [Fact]
    public void Neutral_lighting_leaves_the_image_and_black_stays_near_black()
    {
        using var x = tensor(new float[] { 0f, 0.25f, 1f }, [1, 1, 1, 3]);
        using var y = Lighting.Apply(x, [0.5], [1]);
        var actual = y.data<float>().ToArray();
        Assert.Equal(0.25, actual[1], 5);
        Assert.InRange(actual[0], 0, 1e-6); // logit clamps at 1e-7
        Assert.InRange(actual[2], 1 - 1e-6, 1);
    }

    [Fact]
    public void Draws_stay_within_fastai_ranges_and_switch_off_with_probability_zero()
    {
        var random = new Random(3);
        var settings = new AugmentationSettings();
        for (var i = 0; i < 500; i++)
        {
            var d = ImageDraws.Draw(settings, random);
            Assert.InRange(d.Brightness, 0.4, 0.6);
            Assert.InRange(d.Contrast, 0.8 - 1e-12, 1.25 + 1e-12);
            Assert.InRange(d.RotationDegrees, -10, 10);
            Assert.InRange(d.Zoom, 1, 1.1);
            Assert.InRange(d.WarpX, -0.2, 0.2);
        }
        var off = new AugmentationSettings { FlipProbability = 0, AffineProbability = 0, LightingProbability = 0 };
        var neutral = ImageDraws.Draw(off, random);
        Assert.Equal(ImageDraws.Neutral with { ZoomColumnPct = neutral.ZoomColumnPct, ZoomRowPct = neutral.ZoomRowPct }, neutral);
    }
}
