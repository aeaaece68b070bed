using System.Globalization;
using Paddy.Pipeline.Reporting;
using Spectre.Console;

namespace Paddy.Pipeline.Jobs;

/// <summary>The tables the build prints for its jobs' results.</summary>
public static class ConsoleTables
{
    private const double MiB = 1024 * 1024;

    /// <summary>Each member's validation error on its own split, and the ensemble's on the images all members held out.</summary>
    public static Table Ensemble(EnsembleResult result)
    {
        var table = new Table().Title("Validation error (each model on its own split; ensemble on the images all models held out)");
        table.AddColumns("model", "weight", "valid error", "valid images", $"on the {result.CommonValidCount} common");
        foreach (var m in result.Members)
            table.AddRow(Markup.Escape(m.Task), m.Weight.ToString("0.##", CultureInfo.InvariantCulture), Percent(m.ValidError),
                m.ValidCount.ToString(CultureInfo.InvariantCulture), m.ErrorOnCommonItems is { } e ? Percent(e) : "-");
        table.AddRow("[bold]ensemble[/]", "", "", "", result.EnsembleErrorOnCommonItems is { } ee ? $"[bold]{Percent(ee)}[/]" : "no common images");
        return table;
    }

    /// <summary>The memory probe's runs: peak memory per accum, and whether it fits the budget.</summary>
    public static Table MemoryProbe(IEnumerable<ProbeRow> rows, string device, long budgetMiB)
    {
        var table = new Table().Title($"Peak memory on {device} (budget {budgetMiB} MiB)");
        table.AddColumns("combination", "accum", "micro-batch", "peak MiB", "fits");
        foreach (var row in rows)
            table.AddRow(Markup.Escape(row.Task), row.Accum.ToString(CultureInfo.InvariantCulture),
                row.MicroBatchSize.ToString(CultureInfo.InvariantCulture),
                row.PeakBytes is { } peak ? (peak / MiB).ToString("F0", CultureInfo.InvariantCulture) : "-",
                row.Fits ? "yes" : Markup.Escape(row.Failure is null ? "no" : $"no: {row.Failure}"));
        return table;
    }

    /// <summary>Submit's summary: each model, what this run did with it, and its figures.</summary>
    public static Table Summary(IEnumerable<ReportedModel> models, IReadOnlyDictionary<string, string> outcomes)
    {
        var table = new Table().Title("Summary");
        table.AddColumns("task", "status", "train time", "valid error", "peak memory");
        foreach (var model in models)
            table.AddRow(Markup.Escape(model.Task), outcomes.GetValueOrDefault(model.Task, "up to date"),
                TimeSpan.FromSeconds(model.Manifest.TrainSeconds).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture),
                Percent(model.Manifest.ValidError),
                model.Manifest.PeakMemoryBytes is { } peak ? $"{peak / MiB:F0} MiB" : "-");
        return table;
    }

    private static string Percent(double value) => value.ToString("P2", CultureInfo.InvariantCulture);
}
