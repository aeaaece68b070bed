using Cake.Core;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Pipeline.Jobs;
using Spectre.Console;

namespace Paddy.Build.Tasks;

[TaskName("Ensemble")]
[TaskDescription("Combines the Train artifacts' TTA probabilities (weighted mean) into submission.csv.")]
[IsDependentOn(typeof(TrainAllTask))]
public sealed class EnsembleTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        if (context.FailedTasks.Count > 0)
            throw new CakeException($"{context.FailedTasks.Count} Train task(s) failed, so there is nothing complete to ensemble; finished models are kept:{Environment.NewLine}"
                + string.Join(Environment.NewLine, context.FailedTasks.Select(f => $"  {f.Key}: {f.Value}")));
        context.Ensemble = EnsembleJob.Run(context.Store, context.Pipeline.Models.Select(m => (context.PlanOf(m), m.EnsembleWeight)).ToList());
        if (context.Log.Verbosity >= Verbosity.Normal) AnsiConsole.Write(ConsoleTables.Ensemble(context.Ensemble));
    }
}
