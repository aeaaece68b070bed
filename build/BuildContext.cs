using Cake.Common;
using Cake.Core;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Jobs;
using Paddy.Pipeline.Models;

namespace Paddy.Build;

/// <summary>
/// The typed context every task receives (Frosting's FrostingContext): the pipeline, its artifact store, the
/// command-line choices, and the run's decisions (made once by <see cref="BuildLifetime"/>). Relative paths are taken
/// from the working directory (the repository root under dotnet run). Nothing here needs the data folder.
/// </summary>
public sealed class BuildContext : CakeContextAdapter
{
    private TaskPlanner? planner;
    private Dictionary<string, TrainDecision> decisions = new(StringComparer.Ordinal);

    public BuildContext(ICakeContext context, bool dryRun) : base(context)
    {
        var workingDirectory = context.Environment.WorkingDirectory.FullPath;
        DryRun = dryRun;
        PipelinePath = Path.GetFullPath(context.Argument("pipeline", "pipeline.yaml"), workingDirectory);
        ArtifactsRoot = Path.GetFullPath(context.Argument("artifacts", "artifacts"), workingDirectory);
        Device = context.Argument("device", "auto");
        Force = context.Argument("force", false);
        AllowTraining = context.Argument("train", true);
        var cache = context.Argument("cache", "");
        SharedCache = cache.Length > 0 ? new SharedArtifactCache(Path.GetFullPath(cache, workingDirectory)) : null;
        Pipeline = PipelineLoader.Load(PipelinePath, ModelCatalog.Names, requireData: false);
        Store = new ArtifactStore(Path.Combine(ArtifactsRoot, Pipeline.Name));
    }

    /// <summary>--dryrun: decide and say what would happen; start no process and write nothing.</summary>
    public bool DryRun { get; }

    public string PipelinePath { get; }
    public string ArtifactsRoot { get; }

    /// <summary>auto (CUDA when available, else CPU), cpu, cuda or cuda:N.</summary>
    public string Device { get; }

    /// <summary>--force: retrain even when an artifact is up to date.</summary>
    public bool Force { get; }

    /// <summary>--train=false: only restore and ensemble; a task that would train fails instead (CI's ensemble job).</summary>
    public bool AllowTraining { get; }

    /// <summary>--cache=&lt;dir&gt;: finished artifacts shared by fingerprint between machines, or null.</summary>
    public SharedArtifactCache? SharedCache { get; }

    public PipelineConfig Pipeline { get; }
    public ArtifactStore Store { get; }

    /// <summary>What each Train task did in this run: trained, up to date, restored, or failed (for the summary).</summary>
    public Dictionary<string, string> Outcomes { get; } = new(StringComparer.Ordinal);

    /// <summary>Tasks that failed in this run, with why; the others go on, Ensemble refuses to run, and the build fails.</summary>
    public Dictionary<string, string> FailedTasks { get; } = new(StringComparer.Ordinal);

    /// <summary>The Ensemble task's result, for Submit to report.</summary>
    public EnsembleResult? Ensemble { get; set; }

    /// <summary>Fingerprints computed once per run (data files hashed once for all tasks); a dry run's writes nothing.</summary>
    public TaskPlanner Planner => planner ??= new TaskPlanner(Pipeline, Store, readOnly: DryRun);

    /// <summary>What deciding may do in this run.</summary>
    public PlanningRequest Planning(PlanningMode mode) => new(Pipeline, Store, SharedCache, Device, Force, mode);

    /// <summary>The Train tasks' decisions, made once in Setup.</summary>
    public IReadOnlyDictionary<string, TrainDecision> Decisions => decisions;

    public void Decided(IReadOnlyDictionary<string, TrainDecision> made) => decisions = new(made, StringComparer.Ordinal);

    /// <summary>A Train task finished in this run: its artifact is there now.</summary>
    public void Finished(TrainTaskOutcome outcome)
    {
        var task = outcome.Done.Combination.TaskName;
        decisions[task] = decisions[task] with { Plan = outcome.Done, Action = TrainAction.UpToDate };
        Outcomes[task] = outcome.Outcome;
    }

    /// <summary>The combination's plan as decided (and updated as its task finished).</summary>
    public PlannedTask PlanOf(CombinationConfig combination) =>
        decisions.TryGetValue(combination.TaskName, out var decision)
            ? decision.Plan ?? throw new CakeException($"{combination.TaskName}: {decision.Reason}.")
            : throw new InvalidOperationException($"{combination.TaskName} was not planned in this run; the build lifetime plans every task a target needs.");
}
