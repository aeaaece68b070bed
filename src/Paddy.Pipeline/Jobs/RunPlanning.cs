using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;

namespace Paddy.Pipeline.Jobs;

/// <summary>How much deciding may do: a build probes memory; Status only reads what is remembered; a dry run writes nothing.</summary>
public enum PlanningMode
{
    Build,
    Status,
    DryRun,
}

/// <summary>What deciding needs besides the combinations: where artifacts live, the shared cache, the device and --force.</summary>
public sealed record PlanningRequest(PipelineConfig Pipeline, ArtifactStore Store, SharedArtifactCache? Cache, string Device,
    bool Force, PlanningMode Mode);

/// <summary>
/// Decides once, before any task runs, what each Train task of the run does: accum: auto answered (from the remembered
/// memory probe, or by probing in a build), the fingerprint, and up to date, restore from the shared cache, or train.
/// Tasks only read these decisions.
/// </summary>
public static class RunPlanning
{
    private const long MiB = 1024 * 1024;

    /// <param name="measure">A build's memory probe: the peak bytes of a short run at an accum (see <see cref="AccumSearch.Run"/>).</param>
    public static IReadOnlyDictionary<string, TrainDecision> Decide(PlanningRequest request, TaskPlanner planner,
        IReadOnlyList<CombinationConfig> combinations, Func<CombinationConfig, int, long?> measure, Action<string> log)
    {
        var decisions = new Dictionary<string, TrainDecision>(StringComparer.Ordinal);
        if (combinations.Count > 0 && !Directory.Exists(request.Pipeline.Data.Root))
        {
            if (request.Mode != PlanningMode.DryRun) throw new DirectoryNotFoundException($"{MissingData(request.Pipeline)}.");
            log($"{MissingData(request.Pipeline)}; a real run would stop here.");
            foreach (var combination in combinations)
                decisions[combination.TaskName] = new(combination, null, TrainAction.Undecided, "cannot be planned without its data");
            return decisions;
        }
        foreach (var combination in combinations)
            decisions[combination.TaskName] = Decide(request, planner, combination, measure, log);
        return decisions;
    }

    /// <summary>The error for a data folder that is not there, with the fix.</summary>
    public static string MissingData(PipelineConfig pipeline) =>
        $"The data folder {pipeline.Data.Root} does not exist (data.root in {pipeline.SourcePath}). Put the Kaggle data there "
        + "(train_images/, test_images/, train.csv, sample_submission.csv) or set data.root to the folder that holds it";

    /// <summary>The memory probe's rows for a combination: remembered ones, or measured now and remembered.</summary>
    public static IReadOnlyList<ProbeRow> ProbeRows(PlanningRequest request, TaskPlanner planner, CombinationConfig combination,
        Func<CombinationConfig, int, long?> measure, Action<string> log)
    {
        var budget = request.Pipeline.MemoryBudgetMiB * MiB;
        var cache = ProbeCache.For(request.Store);
        var key = ProbeCache.Key(combination, planner.Data.Sha256, request.Device, budget);
        if (cache.Find(key) is { } known) return known;
        // A probe writes into the task's work folder: never beside another process training or probing the same task.
        using var taskLock = TaskLock.Acquire(TaskLock.FolderOf(request.Store), combination.Slug, combination.TaskName,
            log, CancellationToken.None);
        if (cache.Find(key) is { } probedMeanwhile) return probedMeanwhile;
        var rows = AccumSearch.Run(combination.TaskName, combination.Training.BatchSize, budget, accum => measure(combination, accum));
        cache.Save(key, rows);
        return rows;
    }

    private static TrainDecision Decide(PlanningRequest request, TaskPlanner planner, CombinationConfig configured,
        Func<CombinationConfig, int, long?> measure, Action<string> log)
    {
        var resolved = configured;
        if (configured.Training.IsAutoAccum)
        {
            var (accum, why) = ResolveAccum(request, planner, configured, measure, log);
            if (accum is null) return new(configured, null, TrainAction.Undecided, why);
            log($"{configured.TaskName}: accum auto -> {accum} (micro-batches of {configured.Training.BatchSize / accum}) fits {request.Pipeline.MemoryBudgetMiB} MiB.");
            resolved = configured with { Training = configured.Training with { Accum = accum.Value } };
        }
        if (request.Mode == PlanningMode.DryRun && configured.Weights != PipelineLoader.WeightsNone
            && WeightsLocator.FindLocal(configured.Weights, Path.GetDirectoryName(request.Pipeline.SourcePath)!) is null)
            return new(configured, null, TrainAction.Undecided, $"would download the weights {configured.Weights}, then train unless an artifact for them exists");

        var plan = planner.Plan(resolved);
        if (plan.IsUpToDate && !request.Force)
            return new(configured, plan, TrainAction.UpToDate, $"up to date (fingerprint {plan.Fingerprint[..12]})");
        if (!request.Force && request.Cache is { } cache)
        {
            var (cached, whyNot) = cache.Find(plan.Fingerprint);
            if (cached is not null)
                return new(configured, plan, TrainAction.Restore, $"{cache.Root}, fingerprint {plan.Fingerprint[..12]}");
            log($"{configured.TaskName}: {whyNot}.");
        }
        return new(configured, plan, TrainAction.Train, plan.IsUpToDate ? "up to date, but --force" : plan.Reason);
    }

    private static (int? Accum, string Why) ResolveAccum(PlanningRequest request, TaskPlanner planner, CombinationConfig combination,
        Func<CombinationConfig, int, long?> measure, Action<string> log)
    {
        var budget = request.Pipeline.MemoryBudgetMiB * MiB;
        var remembered = ProbeCache.For(request.Store).Find(ProbeCache.Key(combination, planner.Data.Sha256, request.Device, budget));
        if (remembered is null && request.Mode == PlanningMode.Status)
            return (null, "accum: auto has no remembered memory probe for this data, device and budget, so its fingerprint is not known; "
                + "--target=ProbeMemory measures it (Status trains nothing)");
        if (remembered is null && request.Mode == PlanningMode.DryRun)
            return (null, "would probe memory (accum: auto has no remembered answer for this data, device and budget), then train unless an artifact for the answer exists");
        try
        {
            var rows = remembered ?? ProbeRows(request, planner, combination, measure, log);
            return (AccumSearch.Chosen(rows, budget), "");
        }
        catch (InvalidOperationException e)
        {
            // Too big for the budget, or a probe that failed for another reason: this task fails, the others go on.
            return (null, e.Message);
        }
    }
}
