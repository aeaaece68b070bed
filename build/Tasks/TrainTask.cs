using System.Runtime.ExceptionServices;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Build.Worker;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Jobs;

namespace Paddy.Build.Tasks;

/// <summary>
/// One cached Train task per (architecture, preprocessing) combination of pipeline.yaml: skipped when the run's
/// decision says its artifact is up to date; otherwise restored from the shared cache or trained in a worker process.
/// </summary>
public sealed class TrainTask(CombinationConfig combination) : AsyncFrostingTask<BuildContext>
{
    public static RegisteredTask Register(CombinationConfig combination) => new(
        combination.TaskName,
        new TrainTask(combination),
        $"fine_tune({combination.Training.Epochs}, {combination.Training.Lr}) of {combination.Arch}, resize {combination.Resize}, size {combination.Size}.",
        DependsOn: [],
        DependeeOf: [RegisteredTask.NameOf(typeof(TrainAllTask))]);

    private string skipReason = "up to date";

    public override string SkipReason => skipReason;

    public override bool ShouldRun(BuildContext context)
    {
        var decision = context.Decisions[combination.TaskName];
        skipReason = decision.Reason;
        return decision.Action != TrainAction.UpToDate;
    }

    /// <summary>A failed model does not stop the others; Ensemble then refuses to run, and the build fails. Ctrl-C stops it all.</summary>
    public override void OnError(Exception exception, BuildContext context)
    {
        if (exception is OperationCanceledException) ExceptionDispatchInfo.Throw(exception);
        context.FailedTasks[combination.TaskName] = exception.Message;
        context.Outcomes[combination.TaskName] = "failed";
        context.Log.Error($"{combination.TaskName} failed; the other tasks go on. {exception.Message}");
    }

    public override async Task RunAsync(BuildContext context)
    {
        var request = new TrainTaskRequest(context.Decisions[combination.TaskName], context.Planner, context.Store, context.SharedCache,
            context.AllowTraining, context.Force);
        var outcome = await TrainTaskJob.RunAsync(request,
            plan => TrainWorkerProcess.RunAsync(combination.TaskName, TrainWorker.TrainArguments(context, plan), context.Log.Verbosity > Verbosity.Quiet),
            message => context.Log.Information(message));
        context.Finished(outcome);
    }
}
