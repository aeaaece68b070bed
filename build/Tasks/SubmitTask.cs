using System.Globalization;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Spectre.Console;

namespace Paddy.Build.Tasks;

[TaskName("Submit")]
[TaskDescription("Trains what is not up to date, ensembles, and writes artifacts/<pipeline>/submission.csv for Kaggle.")]
[IsDependentOn(typeof(EnsembleTask))]
public sealed class SubmitTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var result = context.Ensemble ?? EnsembleTask.Ensemble(context);
        if (context.Log.Verbosity < Verbosity.Normal) return;

        var table = new Table().Title("Summary");
        table.AddColumns("task", "status", "train time", "valid error", "peak memory");
        foreach (var combination in context.Pipeline.Models)
        {
            var manifest = context.PlanOf(combination).Finished;
            table.AddRow(Markup.Escape(combination.TaskName),
                context.Outcomes.GetValueOrDefault(combination.TaskName, "up to date"),
                manifest is null ? "-" : TimeSpan.FromSeconds(manifest.TrainSeconds).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture),
                manifest is null ? "-" : manifest.ValidError.ToString("P2", CultureInfo.InvariantCulture),
                manifest?.PeakMemoryBytes is { } peak ? $"{peak / (1024.0 * 1024):F0} MiB" : "-");
        }
        AnsiConsole.Write(table);
        context.Log.Information($"Submission: {result.SubmissionPath} ({result.SubmissionRows} rows, sample_submission order).");
    }
}
