using System.Runtime.ExceptionServices;
using Cake.Core;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Build.Worker;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;

namespace Paddy.Build.Tasks;

/// <summary>
/// One cached Train task per (architecture, preprocessing) combination of pipeline.yaml. It is skipped while its
/// artifact is up to date; otherwise it trains in a child process, which writes the artifact atomically.
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
        _ = context.Preflight;
        var plan = context.PlanOf(combination);
        if (plan.IsUpToDate && !context.Force)
        {
            skipReason = $"up to date (fingerprint {plan.Fingerprint[..12]})";
            context.Outcomes[combination.TaskName] = "up to date";
            return false;
        }
        if (!context.Force && context.SharedCache is { } cache)
        {
            var (restored, why) = cache.TryRestore(plan.Fingerprint, context.Store, combination.Slug);
            context.Planner.Invalidate(context.Resolved(combination));
            if (restored is not null)
            {
                skipReason = $"restored from {cache.Root} (fingerprint {plan.Fingerprint[..12]})";
                context.Outcomes[combination.TaskName] = "restored";
                return false;
            }
            context.Log.Information($"{combination.TaskName}: {why}.");
        }
        context.Log.Information(context.Force && plan.IsUpToDate
            ? $"{combination.TaskName}: up to date, but --force; training."
            : $"{combination.TaskName}: {plan.Reason}; training.");
        return true;
    }

    /// <summary>
    /// A failed model (a crash or out-of-memory in its worker) does not stop the others from training; Ensemble then
    /// refuses to run and names it. Ctrl-C and bad data (the pre-flight's one error) stop the whole build.
    /// </summary>
    public override void OnError(Exception exception, BuildContext context)
    {
        if (exception is OperationCanceledException or DatasetException) ExceptionDispatchInfo.Throw(exception);
        context.FailedTasks[combination.TaskName] = exception.Message;
        context.Outcomes[combination.TaskName] = "failed";
        context.Log.Error($"{combination.TaskName} failed; the other tasks go on. {exception.Message}");
    }

    public override async Task RunAsync(BuildContext context)
    {
        var plan = context.PlanOf(combination);
        if (!context.AllowTraining)
            throw new CakeException($"{combination.TaskName} has no finished artifact ({plan.Reason}) and --train=false forbids training it here.");
        Task Train() => TrainWorkerProcess.RunAsync(combination.TaskName, TrainWorker.TrainArguments(context, plan),
            echo: context.Log.Verbosity > Verbosity.Quiet);
        try
        {
            await Train();
        }
        catch (TrainWorkerProcess.WorkerFailedException e) when (e.ExitCode == TrainWorker.LibTorchErrorExitCode)
        {
            // TorchSharp 0.107 passes temporary scalars (the alpha of every tensor add) to libtorch without keeping
            // them alive, so a garbage collection at the wrong moment can free one mid-call: a rare error that does
            // not repeat. A second try resumes from the last epoch checkpoint; a real error fails again.
            context.Log.Warning($"{combination.TaskName}: libtorch failed in the worker; trying once more from its last checkpoint.");
            await Train();
        }
        context.Planner.Invalidate(context.Resolved(combination));
        var done = context.PlanOf(combination);
        if (!done.IsUpToDate)
            throw new CakeException($"{combination.TaskName} finished but its artifact does not verify: {done.Reason}.");
        context.SharedCache?.Save(done.Fingerprint, context.Store.PathOf(combination.Slug));
        context.Outcomes[combination.TaskName] = "trained";
    }
}
