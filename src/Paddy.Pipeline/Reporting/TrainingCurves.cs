using System.Globalization;

namespace Paddy.Pipeline.Reporting;

/// <summary>A CSV written by the Learner (history.csv or schedule.csv) read back by column name.</summary>
public sealed class TrainingCurves
{
    private TrainingCurves(IReadOnlyList<string> columns, IReadOnlyList<string[]> rows)
    {
        Columns = columns;
        Rows = rows;
    }

    public IReadOnlyList<string> Columns { get; }
    public IReadOnlyList<string[]> Rows { get; }

    /// <summary>The Learner writes plain CSV: no field holds a comma or a quote, so no quoting is needed.</summary>
    public static TrainingCurves Read(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0) throw new InvalidDataException($"{path} is empty; retrain the task with --force.");
        return new TrainingCurves(lines[0].Split(','), lines.Skip(1).Select(l => l.Split(',')).ToList());
    }

    public IReadOnlyList<string> Text(string column) => Rows.Select(r => r[Index(column)]).ToList();

    public double[] Numbers(string column) =>
        Rows.Select(r => double.Parse(r[Index(column)], NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The parameter groups named by the lr_&lt;group&gt; columns, in order.</summary>
    public IReadOnlyList<string> Groups => Columns.Where(c => c.StartsWith("lr_", StringComparison.Ordinal)).Select(c => c[3..]).ToList();

    private int Index(string column)
    {
        var index = Columns.ToList().IndexOf(column);
        return index >= 0 ? index : throw new InvalidDataException($"No column '{column}' (columns: {string.Join(", ", Columns)}).");
    }
}
