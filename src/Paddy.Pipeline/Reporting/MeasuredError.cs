using System.Globalization;

namespace Paddy.Pipeline.Reporting;

/// <summary>
/// An error rate counted on <see cref="Count"/> images, with its Wilson score 95% confidence interval (z = 1.96).
/// Wilson rather than the normal approximation p ± z·sqrt(p(1-p)/n): it stays inside [0, 1], and at zero errors or
/// a few dozen images it still gives a sensible width where the normal interval collapses to nothing.
/// </summary>
public readonly record struct MeasuredError(int Errors, int Count)
{
    public const double Z95 = 1.96;

    public static MeasuredError Of(ConfusionMatrix matrix) => new(matrix.Total - matrix.Correct, matrix.Total);

    public double Rate => Count == 0 ? double.NaN : (double)Errors / Count;

    /// <summary>(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).</summary>
    public (double Low, double High) Wilson95
    {
        get
        {
            if (Count == 0) return (double.NaN, double.NaN);
            double n = Count, p = Rate, z2 = Z95 * Z95;
            var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
            var halfWidth = Z95 * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
            return (Math.Max(0, centre - halfWidth), Math.Min(1, centre + halfWidth));
        }
    }

    /// <summary>For example "12.50% (95% CI 8.61%-17.78%, 200 images)".</summary>
    public override string ToString()
    {
        var (low, high) = Wilson95;
        return string.Create(CultureInfo.InvariantCulture, $"{Rate:P2} (95% CI {low:P2}-{high:P2}, {Count} images)");
    }
}
