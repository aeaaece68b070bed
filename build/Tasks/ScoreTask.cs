using Cake.Core;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Pipeline.Jobs;
using Spectre.Console;

namespace Paddy.Build.Tasks;

[TaskName("Score")]
[TaskDescription("Scores submission.csv and each model's TTA test predictions against known labels (--solution=<csv> with image_id,label; by default solution.csv beside sample_submission.csv): accuracy, per-class error, confusion matrix, also in the report.")]
[IsDependentOn(typeof(EnsembleTask))]
public sealed class ScoreTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var solution = context.SolutionPath ?? throw new CakeException(
            $"Nothing to score against: pass --solution=<csv with image_id,label>, or put {ScoreJob.SolutionFileName} beside sample_submission.csv in {context.Pipeline.Data.Root}.");
        var result = SubmitJob.Run(context.Store, context.Pipeline, context.PlanOf, context.Ensemble, solution);
        if (context.Log.Verbosity < Verbosity.Normal) return;
        AnsiConsole.Write(ConsoleTables.Score(result.Score!));
        context.Log.Information($"Report: {result.ReportPath}");
    }
}
