using Cake.Common;
using Cake.Core;
using Cake.Core.Diagnostics;
using Paddy.Build.Worker;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Jobs;
using Paddy.Pipeline.Models;

namespace Paddy.Build;

/// <summary>
/// The typed context every task receives (Frosting's FrostingContext): the pipeline, its artifact store and the
/// command-line choices. Relative paths are taken from the working directory (the repository root under dotnet run).
/// </summary>
public sealed class BuildContext : CakeContextAdapter
{
    private readonly Lazy<TaskPlanner> planner;
    private readonly Dictionary<string, int> resolvedAccum = new(StringComparer.Ordinal);
    private readonly Lazy<DataPreflightResult> preflight;

    public BuildContext(ICakeContext context) : base(context)
    {
        var workingDirectory = context.Environment.WorkingDirectory.FullPath;
        PipelinePath = Path.GetFullPath(context.Argument("pipeline", "pipeline.yaml"), workingDirectory);
        ArtifactsRoot = Path.GetFullPath(context.Argument("artifacts", "artifacts"), workingDirectory);
        Device = context.Argument("device", "auto");
        Force = context.Argument("force", false);
        AllowTraining = context.Argument("train", true);
        var cache = context.Argument("cache", "");
        SharedCache = cache.Length > 0 ? new SharedArtifactCache(Path.GetFullPath(cache, workingDirectory)) : null;
        Pipeline = PipelineLoader.Load(PipelinePath, ModelCatalog.Names);
        Store = new ArtifactStore(Path.Combine(ArtifactsRoot, Pipeline.Name));
        planner = new Lazy<TaskPlanner>(() => new TaskPlanner(Pipeline, Store));
        preflight = new Lazy<DataPreflightResult>(CheckData);
    }

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

    /// <summary>Train tasks that failed in this run, with why; the others go on, and Ensemble refuses to run.</summary>
    public Dictionary<string, string> FailedTasks { get; } = new(StringComparer.Ordinal);

    /// <summary>The Ensemble task's result, for Submit to report.</summary>
    public EnsembleResult? Ensemble { get; set; }

    /// <summary>The combination with accum: auto replaced by the memory probe's answer (probing first when needed).</summary>
    public CombinationConfig Resolved(CombinationConfig combination)
    {
        if (!combination.Training.IsAutoAccum) return combination;
        if (!resolvedAccum.TryGetValue(combination.Key, out var accum))
        {
            var rows = MemoryProber.Probe(this, combination);
            accum = AccumSearch.Chosen(rows, Pipeline.MemoryBudgetMiB * 1024 * 1024);
            this.Log.Information($"{combination.TaskName}: accum auto -> {accum} (micro-batches of {combination.Training.BatchSize / accum}) fits {Pipeline.MemoryBudgetMiB} MiB.");
            resolvedAccum[combination.Key] = accum;
        }
        return combination with { Training = combination.Training with { Accum = accum } };
    }

    /// <summary>The task's fingerprint and up-to-date state, for its resolved combination.</summary>
    public PlannedTask PlanOf(CombinationConfig combination) => Planner.Plan(Resolved(combination));

    /// <summary>
    /// The one data pre-flight (<see cref="DataPreflight"/>), done the first time a Train task asks: every dataset
    /// problem in one error, once, before anything trains; its warnings and skipped images printed once here.
    /// </summary>
    public DataPreflightResult Preflight => preflight.Value;

    private DataPreflightResult CheckData()
    {
        var result = DataPreflight.Run(Pipeline.Data, Planner.Data.Sha256, DataPreflight.CacheFolder(Store));
        foreach (var warning in result.Warnings) this.Log.Warning(warning);
        if (result.Skipped.Count > 0)
            this.Log.Warning($"Leaving out {result.Skipped.Count} bad training image(s) (data.skip_bad_images: true); each artifact lists them:"
                             + string.Concat(result.Skipped.Select(b => $"{System.Environment.NewLine}  {b.RelativePath}: {b.Reason}")));
        return result;
    }

    /// <summary>Fingerprints and up-to-date checks, computed once per run (data files hashed once for all tasks).</summary>
    public TaskPlanner Planner => planner.Value;
}
