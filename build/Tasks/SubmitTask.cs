using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Pipeline.Jobs;
using Spectre.Console;

namespace Paddy.Build.Tasks;

[TaskName("Submit")]
[TaskDescription("Trains what is not up to date, ensembles, and writes artifacts/<pipeline>/submission.csv for Kaggle and report/index.html.")]
[IsDependentOn(typeof(EnsembleTask))]
public sealed class SubmitTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var result = SubmitJob.Run(context.Store, context.Pipeline, context.PlanOf, context.Ensemble);
        if (context.Log.Verbosity < Verbosity.Normal) return;
        if (context.Ensemble is null) AnsiConsole.Write(ConsoleTables.Ensemble(result.Ensemble));
        AnsiConsole.Write(ConsoleTables.Summary(result.Models, context.Outcomes));
        context.Log.Information($"Submission: {result.Ensemble.SubmissionPath} ({result.Ensemble.SubmissionRows} rows, sample_submission order).");
        context.Log.Information($"Report: {result.ReportPath}");
    }
}
