using System.Collections.Concurrent;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using Paddy.Pipeline.Reporting;

namespace Paddy.Pipeline.Jobs;

/// <summary>A Train task's fingerprint and whether its artifact is already done.</summary>
public sealed record PlannedTask(CombinationConfig Combination, FingerprintInputs Inputs, string Fingerprint,
    ArtifactManifest? Finished, string Reason)
{
    public bool IsUpToDate => Finished is not null;
}

/// <summary>
/// Works out each combination's fingerprint: the data manifest once for all of them (file hashes remembered
/// across runs in the pipeline's .cache folder), the weights file's hash, the seed and the code identity.
/// A read-only planner (a dry run) writes nothing and downloads no weights: it hashes what is there.
/// </summary>
public sealed class TaskPlanner
{
    private readonly PipelineConfig pipeline;
    private readonly ArtifactStore store;
    private readonly Lazy<(FileHashCache Hashes, DataManifest Data)> data;
    private readonly ConcurrentDictionary<string, PlannedTask> planned = new();
    private readonly bool readOnly;

    public TaskPlanner(PipelineConfig pipeline, ArtifactStore store, bool readOnly = false)
    {
        this.pipeline = pipeline;
        this.store = store;
        this.readOnly = readOnly;
        data = new Lazy<(FileHashCache, DataManifest)>(() =>
        {
            var hashes = FileHashCache.Open(Path.Combine(store.PipelineDirectory, ".cache", "file-hashes.json"));
            var manifest = ConsoleProgress.Run($"Hashing the data in {pipeline.Data.Root}", DataManifest.CountFiles(pipeline.Data.Root, ImageDataset.IsDatasetFile),
                progress => DataManifest.Build(pipeline.Data.Root, hashes, ImageDataset.IsDatasetFile, progress));
            if (!readOnly)
            {
                hashes.Save();
                manifest.SaveListing(DataListings);
            }
            return (hashes, manifest);
        });
    }

    public DataManifest Data => data.Value.Data;

    /// <summary>Where every data listing a plan was made from is kept, by its hash (for Status's file-by-file reasons).</summary>
    public string DataListings => Path.Combine(store.PipelineDirectory, ".cache", "data");

    public PlannedTask Plan(CombinationConfig combination) => planned.GetOrAdd(combination.Key, _ =>
    {
        var inputs = FingerprintInputs.For(pipeline, combination, Data.Sha256, WeightsSha256(combination));
        var fingerprint = Fingerprint.Of(inputs);
        var (finished, reason) = store.Check(combination.Slug, fingerprint);
        return new PlannedTask(combination, inputs, fingerprint, finished, reason);
    });

    /// <summary>Forgets a task's plan so that the next <see cref="Plan"/> checks its artifact again.</summary>
    public void Invalidate(CombinationConfig combination) => planned.TryRemove(combination.Key, out _);

    private string WeightsSha256(CombinationConfig combination)
    {
        if (combination.Weights == PipelineLoader.WeightsNone) return PipelineLoader.WeightsNone;
        var baseDirectory = Path.GetDirectoryName(pipeline.SourcePath)!;
        var path = readOnly
            ? WeightsLocator.FindLocal(combination.Weights, baseDirectory)
              ?? throw new FileNotFoundException($"The weights {combination.Weights} are not on this machine yet; a real run downloads them.")
            : WeightsLocator.Resolve(combination.Weights, baseDirectory);
        var hash = data.Value.Hashes.Sha256(path);
        if (!readOnly) data.Value.Hashes.Save();
        return hash;
    }
}
