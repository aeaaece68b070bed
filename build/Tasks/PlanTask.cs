using System.Text.Json;
using System.Text.Json.Nodes;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;

namespace Paddy.Build.Tasks;

/// <summary>
/// The combinations as a GitHub Actions matrix ({"include": [...]}), written to artifacts/&lt;pipeline&gt;/plan.json
/// and printed: each leg runs `--target=&lt;task&gt; --exclusive`, and legs whose artifact is already valid can be skipped.
/// </summary>
[TaskName("Plan")]
[TaskDescription("Prints the Train tasks as a JSON matrix for CI (task, fingerprint, whether already done); trains nothing.")]
public sealed class PlanTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var legs = new JsonArray();
        foreach (var combination in context.Pipeline.Models)
        {
            var plan = context.PlanOf(combination);
            var done = plan.IsUpToDate || context.SharedCache?.Find(plan.Fingerprint).Manifest is not null;
            legs.Add(new JsonObject
            {
                ["task"] = combination.TaskName,
                ["slug"] = combination.Slug,
                ["fingerprint"] = plan.Fingerprint,
                ["up_to_date"] = done,
            });
        }
        var json = new JsonObject { ["include"] = legs }.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        Directory.CreateDirectory(context.Store.PipelineDirectory);
        var path = Path.Combine(context.Store.PipelineDirectory, "plan.json");
        File.WriteAllText(path, json);
        context.Log.Information($"Plan written to {path}:");
        Console.Out.WriteLine(json);
    }
}
