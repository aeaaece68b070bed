using System.Globalization;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Pipeline.Reporting;
using Spectre.Console;

namespace Paddy.Build.Tasks;

[TaskName("Submit")]
[TaskDescription("Trains what is not up to date, ensembles, and writes artifacts/<pipeline>/submission.csv for Kaggle and report/index.html.")]
[IsDependentOn(typeof(EnsembleTask))]
public sealed class SubmitTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var result = context.Ensemble ?? EnsembleTask.Ensemble(context);
        var models = ScoreTask.Models(context);
        var score = ScoreTask.Score(context, models);
        var report = RunReport.Write(context.Store, context.Pipeline.Name, models, result, score);
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
        if (score is not null)
            context.Log.Information($"Test accuracy: {score.Submission.Accuracy.ToString("P2", CultureInfo.InvariantCulture)} on {score.Submission.Matrix.Total} test images with known labels ({score.SolutionPath}).");
        context.Log.Information($"Report: {report}");
    }
}
