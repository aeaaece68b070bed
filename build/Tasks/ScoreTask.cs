using System.Globalization;
using Cake.Common;
using Cake.Core;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Pipeline.Jobs;
using Paddy.Pipeline.Reporting;
using Spectre.Console;

namespace Paddy.Build.Tasks;

[TaskName("Score")]
[TaskDescription("Scores submission.csv and each model's TTA test predictions against known labels (--solution=<csv> with image_id,label; by default solution.csv beside sample_submission.csv): accuracy, per-class error, confusion matrix, also in the report.")]
[IsDependentOn(typeof(EnsembleTask))]
public sealed class ScoreTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var models = Models(context);
        var score = Score(context, models) ?? throw new CakeException(
            $"Nothing to score against: pass --solution=<csv with image_id,label>, or put {ScoreJob.SolutionFileName} beside sample_submission.csv in {context.Pipeline.Data.Root}.");
        var report = RunReport.Write(context.Store, context.Pipeline.Name, models, context.Ensemble ?? EnsembleTask.Ensemble(context), score);
        if (context.Log.Verbosity < Verbosity.Normal) return;
        var table = new Table().Title($"Test score against {Markup.Escape(score.SolutionPath)}");
        table.AddColumns("predictions", "test accuracy", "test error (Wilson 95% CI)");
        foreach (var scored in score.Models.Prepend(score.Submission))
            table.AddRow(Markup.Escape(scored.Name), Percent(scored.Accuracy), MeasuredError.Of(scored.Matrix).ToString());
        AnsiConsole.Write(table);
        context.Log.Information($"Report: {report}");
    }

    /// <summary>The test score when a solution is given (--solution) or sits beside sample_submission.csv, else null.</summary>
    public static ScoreResult? Score(BuildContext context, IReadOnlyList<ReportedModel> models)
    {
        var given = context.Argument("solution", "");
        var solution = given.Length > 0
            ? Path.GetFullPath(given, context.Environment.WorkingDirectory.FullPath)
            : ScoreJob.DefaultSolution(context.Pipeline.Data.Root);
        return solution is null ? null : ScoreJob.Run(context.Store, models, solution);
    }

    /// <summary>Every model of the pipeline with its finished artifact, as the report and the score read them.</summary>
    public static IReadOnlyList<ReportedModel> Models(BuildContext context) => context.Pipeline.Models
        .Select(m => new ReportedModel(m.TaskName, m.Slug, m.EnsembleWeight, context.PlanOf(m).Finished!))
        .ToList();

    private static string Percent(double value) => value.ToString("P2", CultureInfo.InvariantCulture);
}
