using System.Globalization;

namespace Paddy.Pipeline.Training.Callbacks;

/// <summary>fastprogress's console table: names padded to 8 and joined by two spaces; values padded under them.</summary>
public static class ConsoleTable
{
    public static string Header(IReadOnlyList<string> names) => string.Join("  ", names.Select(PaddedName));

    public static string Row(IReadOnlyList<string> names, IReadOnlyList<string> values) =>
        string.Concat(names.Zip(values, (name, value) => value + new string(' ', Math.Max(0, 2 + PaddedName(name).Length - value.Length))));

    /// <summary>Python's f'{x:.6f}'.</summary>
    public static string FormatFloat(double value) =>
        double.IsNaN(value) ? "nan"
        : double.IsInfinity(value) ? (value > 0 ? "inf" : "-inf")
        : value.ToString("F6", CultureInfo.InvariantCulture);

    /// <summary>fastprogress's format_time: mm:ss, or h:mm:ss from an hour on; seconds truncated.</summary>
    public static string FormatTime(double seconds)
    {
        long t = (long)seconds;
        long h = t / 3600, m = t / 60 % 60, s = t % 60;
        return h != 0
            ? string.Create(CultureInfo.InvariantCulture, $"{h}:{m:00}:{s:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{m:00}:{s:00}");
    }

    private static string PaddedName(string name) => name.Length < 8 ? name.PadRight(8) : name;
}
