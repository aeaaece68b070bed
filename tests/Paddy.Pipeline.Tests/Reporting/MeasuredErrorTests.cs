using Paddy.Pipeline.Reporting;

namespace Paddy.Pipeline.Tests.Reporting;

public sealed class MeasuredErrorTests
{
    /// <summary>Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3 (score).</summary>
    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    public void Wilson_interval_matches_newcombes_published_values(int errors, int count, double low, double high)
    {
        var (actualLow, actualHigh) = new MeasuredError(errors, count).Wilson95;
        Assert.Equal(low, actualLow, 0.00006);
        Assert.Equal(high, actualHigh, 0.00006);
    }

    [Fact]
    public void The_threshold_of_100_images_is_where_the_worst_case_interval_narrows_to_within_ten_points()
    {
        static double HalfWidth(int n) { var (low, high) = new MeasuredError(n / 2, n).Wilson95; return (high - low) / 2; }
        Assert.InRange(HalfWidth(Paddy.Pipeline.Jobs.EnsembleResult.MinimumCommonImages), 0.09, 0.10);
        Assert.True(HalfWidth(90) > 0.10);
        Assert.True(HalfWidth(10) > 0.25);
    }

    [Fact]
    public void Counts_errors_off_the_diagonal_of_a_confusion_matrix()
    {
        var matrix = ConfusionMatrix.FromLabels([0, 0, 1, 1, 1], [0, 1, 1, 2, 2], classes: 3);
        Assert.Equal(new MeasuredError(3, 5), MeasuredError.Of(matrix));
        Assert.Equal("60.00 % (95% CI 23.07 %-88.24 %, 5 images)", MeasuredError.Of(matrix).ToString());
    }
}
