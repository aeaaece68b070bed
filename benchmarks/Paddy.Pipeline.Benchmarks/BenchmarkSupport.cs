using System.Diagnostics;
using System.Globalization;

namespace Paddy.Pipeline.Benchmarks;

/// <summary>What every benchmark needs: its command-line options and a timing robust to a busy machine.</summary>
public static class BenchmarkSupport
{
    /// <summary>The value after <paramref name="name"/> on the command line, or the fallback.</summary>
    public static string Option(IReadOnlyList<string> arguments, string name, string fallback)
    {
        var at = arguments.ToList().IndexOf(name);
        return at >= 0 && at + 1 < arguments.Count ? arguments[at + 1] : fallback;
    }

    public static int Option(IReadOnlyList<string> arguments, string name, int fallback) =>
        int.Parse(Option(arguments, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>Median milliseconds of <paramref name="steps"/> runs after one warm-up: other processes make single runs spike.</summary>
    public static double MedianMilliseconds(int steps, Action step)
    {
        step();
        var times = new List<double>(steps);
        for (var i = 0; i < steps; i++)
        {
            var clock = Stopwatch.StartNew();
            step();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
