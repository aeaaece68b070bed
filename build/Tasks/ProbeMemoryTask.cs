using System.Globalization;
using System.Text.Json;
using Paddy.Build.Frosting;
using Paddy.Build.Worker;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Jobs;
using Spectre.Console;

namespace Paddy.Build.Tasks;

/// <summary>
/// The seed's search for the accumulation that fits a 16 GB GPU, for every combination: short runs at accum 1, 2,
/// 4, ... until the peak memory fits memory_budget_mib. Printed as a table and saved as memory-probe.json; the
/// answers are remembered, and accum: auto uses them.
/// </summary>
[TaskName("ProbeMemory")]
[TaskDescription("Measures each combination's peak memory at accum 1, 2, 4, ... until it fits memory_budget_mib; trains nothing.")]
public sealed class ProbeMemoryTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var rows = context.Pipeline.Models.SelectMany(m => MemoryProber.Probe(context, m)).ToList();
        var table = new Table().Title($"Peak memory on {context.Device} (budget {context.Pipeline.MemoryBudgetMiB} MiB)");
        table.AddColumns("combination", "accum", "micro-batch", "peak MiB", "fits");
        foreach (var row in rows)
            table.AddRow(Markup.Escape(row.Task), row.Accum.ToString(CultureInfo.InvariantCulture),
                row.MicroBatchSize.ToString(CultureInfo.InvariantCulture),
                row.PeakBytes is { } peak ? (peak / (1024.0 * 1024)).ToString("F0", CultureInfo.InvariantCulture) : "-",
                row.Fits ? "yes" : Markup.Escape(row.Failure is null ? "no" : $"no: {row.Failure}"));
        AnsiConsole.Write(table);
        Directory.CreateDirectory(context.Store.PipelineDirectory);
        File.WriteAllText(Path.Combine(context.Store.PipelineDirectory, "memory-probe.json"),
            JsonSerializer.Serialize(rows, ArtifactManifest.Json));
    }
}
