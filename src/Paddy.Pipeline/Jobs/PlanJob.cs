using System.Text.Json.Nodes;
using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Jobs;

/// <summary>
/// The Train tasks as a GitHub Actions matrix ({"include": [...]}): each leg runs `--target=&lt;task&gt; --exclusive`,
/// and legs whose artifact is already there (up to date, or in the shared cache) can be skipped.
/// </summary>
public static class PlanJob
{
    public const string FileName = "plan.json";

    /// <summary>Writes the matrix to the pipeline's plan.json and returns it with the file's path.</summary>
    public static (string Json, string Path) Write(ArtifactStore store, IEnumerable<TrainDecision> decisions)
    {
        var legs = new JsonArray();
        foreach (var decision in decisions)
        {
            var plan = decision.Plan ?? throw new InvalidOperationException($"{decision.TaskName}: {decision.Reason}.");
            legs.Add(new JsonObject
            {
                ["task"] = decision.TaskName,
                ["slug"] = plan.Combination.Slug,
                ["fingerprint"] = plan.Fingerprint,
                ["up_to_date"] = decision.Action is TrainAction.UpToDate or TrainAction.Restore,
            });
        }
        var json = new JsonObject { ["include"] = legs }.ToJsonString();
        Directory.CreateDirectory(store.PipelineDirectory);
        var path = System.IO.Path.Combine(store.PipelineDirectory, FileName);
        File.WriteAllText(path, json);
        return (json, path);
    }
}
