using Paddy.Pipeline.Training.Optimization;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class LossScalerTests
{
    [Fact]
    public void Unscale_divides_gradients_by_the_scale_and_scale_loss_multiplies()
    {
        var scaler = new LossScaler();
        using var gradient = tensor(new[] { 65536f, 131072f });
        using var loss = tensor(0.5f);

        Assert.True(scaler.Unscale([gradient]));

        Assert.Equal(new[] { 1f, 2f }, gradient.data<float>().ToArray());
        using var scaled = scaler.ScaleLoss(loss);
        Assert.Equal(32768f, scaled.item<float>());
    }

    [Fact]
    public void An_overflow_reports_a_skip_halves_the_scale_and_resets_the_clean_count()
    {
        var scaler = new LossScaler();
        using var clean = tensor(new[] { 1f });
        Assert.True(scaler.Unscale([clean]));
        scaler.Update();
        Assert.Equal(1, scaler.CleanSteps);

        using var overflowed = tensor(new[] { 1f, float.PositiveInfinity });
        using var nan = tensor(new[] { float.NaN });
        Assert.False(scaler.Unscale([clean, overflowed]));
        scaler.Update();
        Assert.Equal(32768, scaler.Scale);
        Assert.Equal(0, scaler.CleanSteps);

        Assert.False(scaler.Unscale([nan]));
        scaler.Update();
        Assert.Equal(16384, scaler.Scale);
    }

    [Fact]
    public void The_scale_doubles_after_the_growth_interval_of_clean_steps()
    {
        var scaler = new LossScaler(initialScale: 1024, growthInterval: 3);
        using var gradient = tensor(new[] { 1f });
        for (int step = 0; step < 2; step++)
        {
            scaler.Unscale([gradient]);
            scaler.Update();
        }
        Assert.Equal(1024, scaler.Scale);

        scaler.Unscale([gradient]);
        scaler.Update();

        Assert.Equal(2048, scaler.Scale);
        Assert.Equal(0, scaler.CleanSteps);
    }

    [Fact]
    public void Update_without_unscale_is_refused()
    {
        var scaler = new LossScaler();
        Assert.Throws<InvalidOperationException>(scaler.Update);
    }

    [Fact]
    public void The_defaults_are_torch_grad_scaler_defaults()
    {
        var scaler = new LossScaler();
        Assert.Equal((65536d, 2d, 0.5d, 2000), (scaler.Scale, scaler.GrowthFactor, scaler.BackoffFactor, scaler.GrowthInterval));
    }
}
