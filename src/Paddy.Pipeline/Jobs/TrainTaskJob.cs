using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Jobs;

/// <summary>What a Train task needs to carry out its decision.</summary>
public sealed record TrainTaskRequest(TrainDecision Decision, TaskPlanner Planner, ArtifactStore Store, SharedArtifactCache? Cache,
    bool AllowTraining, bool Force);

/// <summary>How a Train task's artifact came to be in this run, and its plan now that it is there.</summary>
public sealed record TrainTaskOutcome(PlannedTask Done, string Outcome);

/// <summary>
/// A Train task's one entry point on the parent side: restore the artifact from the shared cache when the decision says
/// so (and it still verifies), else train it (in a worker process, given by the caller), then verify it and publish it
/// to the shared cache.
/// </summary>
public static class TrainTaskJob
{
    /// <param name="trainInWorker">Trains the planned task in its own process, which writes the artifact atomically.</param>
    public static async Task<TrainTaskOutcome> RunAsync(TrainTaskRequest request, Func<PlannedTask, Task> trainInWorker, Action<string> log)
    {
        var decision = request.Decision;
        if (decision.Plan is not { } plan) throw new InvalidOperationException($"{decision.TaskName}: {decision.Reason}.");
        // Another build on the same artifacts folder may be training this task: wait for it, then look again, so two
        // processes never train one task or share its checkpoint.
        using var taskLock = TaskLock.Acquire(TaskLock.FolderOf(request.Store), plan.Combination.Slug, decision.TaskName, log,
            CancellationToken.None);
        if (decision.Action != TrainAction.UpToDate && !request.Force)
        {
            request.Planner.Invalidate(plan.Combination);
            var now = request.Planner.Plan(plan.Combination);
            if (now.IsUpToDate)
            {
                log($"{decision.TaskName}: became up to date while this build waited for its lock (fingerprint {now.Fingerprint[..12]}).");
                return new TrainTaskOutcome(now, "up to date");
            }
        }
        return await RestoreOrTrainAsync(request, plan, trainInWorker, log);
    }

    private static async Task<TrainTaskOutcome> RestoreOrTrainAsync(TrainTaskRequest request, PlannedTask plan,
        Func<PlannedTask, Task> trainInWorker, Action<string> log)
    {
        var (decision, combination) = (request.Decision, plan.Combination);
        if (decision.Action == TrainAction.Restore && request.Cache is { } cache)
        {
            var (restored, whyNot) = cache.TryRestore(plan.Fingerprint, request.Store, combination.Slug);
            request.Planner.Invalidate(combination);
            if (restored is not null)
            {
                log($"{decision.TaskName}: restored from {cache.Root} (fingerprint {plan.Fingerprint[..12]}).");
                return new TrainTaskOutcome(request.Planner.Plan(combination), "restored");
            }
            log($"{decision.TaskName}: {whyNot}.");
        }
        if (!request.AllowTraining)
            throw new InvalidOperationException($"{decision.TaskName} has no finished artifact ({plan.Reason}) and --train=false forbids training it here.");

        log($"{decision.TaskName}: {(decision.Action == TrainAction.Restore ? plan.Reason : decision.Reason)}; training.");
        await trainInWorker(plan);
        request.Planner.Invalidate(combination);
        var done = request.Planner.Plan(combination);
        if (!done.IsUpToDate)
            throw new InvalidOperationException($"{decision.TaskName} finished but its artifact does not verify: {done.Reason}.");
        request.Cache?.Save(done.Fingerprint, request.Store.PathOf(combination.Slug));
        return new TrainTaskOutcome(done, "trained");
    }
}
