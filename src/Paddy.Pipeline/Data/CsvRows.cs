using CsvHelper;

namespace Paddy.Pipeline.Data;

/// <summary>Reads the CSV files a user supplies (train.csv, sample_submission.csv, a solution), keeping line numbers for errors.</summary>
public static class CsvRows
{
    /// <summary>The rows of a CSV file as (line, values of <paramref name="columns"/>); a missing column, or a row with
    /// an empty value in one of the first <paramref name="required"/> columns, is added to <paramref name="errors"/>.</summary>
    public static List<(int Line, string[] Values)> Read(string csvPath, string[] columns, int required, List<string> errors)
    {
        var rows = new List<(int, string[])>();
        using var csv = CsvReader.FromFile(csvPath, new CsvReaderOptions { TrackLineNumbers = true });
        csv.ReadHeader();
        if (columns.Any(c => !csv.Headers.Contains(c)))
        {
            errors.Add($"{csvPath}, line 1: the header must contain the columns {string.Join(", ", columns)}.");
            return rows;
        }
        while (csv.Read())
        {
            var line = (int)csv.LineNumber;
            var values = columns.Select(c => csv.GetString(c).Trim()).ToArray();
            if (values.Take(required).Any(v => v.Length == 0))
            {
                errors.Add($"{csvPath}, line {line}: empty {string.Join(" or ", columns.Take(required))}; fill it in or remove the line.");
                continue;
            }
            rows.Add((line, values));
        }
        return rows;
    }
}
