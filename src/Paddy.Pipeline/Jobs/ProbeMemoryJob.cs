using System.Text.Json;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;

namespace Paddy.Pipeline.Jobs;

/// <summary>
/// ProbeMemory's entry point: the seed's search for the accumulation that fits a 16 GB GPU, for every combination
/// (remembered answers reused), saved as the pipeline's memory-probe.json.
/// </summary>
public static class ProbeMemoryJob
{
    public const string FileName = "memory-probe.json";

    public static IReadOnlyList<ProbeRow> Run(PlanningRequest request, TaskPlanner planner, Func<CombinationConfig, int, long?> measure,
        Action<string> log)
    {
        if (!Directory.Exists(request.Pipeline.Data.Root)) throw new DirectoryNotFoundException($"{RunPlanning.MissingData(request.Pipeline)}.");
        var rows = request.Pipeline.Models.SelectMany(m => RunPlanning.ProbeRows(request, planner, m, measure, log)).ToList();
        Directory.CreateDirectory(request.Store.PipelineDirectory);
        File.WriteAllText(Path.Combine(request.Store.PipelineDirectory, FileName), JsonSerializer.Serialize(rows, ArtifactManifest.Json));
        return rows;
    }
}
