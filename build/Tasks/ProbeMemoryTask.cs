using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Build.Worker;
using Paddy.Pipeline.Jobs;
using Spectre.Console;

namespace Paddy.Build.Tasks;

/// <summary>
/// The seed's search for the accumulation that fits a 16 GB GPU, for every combination: short runs at accum 1, 2,
/// 4, ... until the peak memory fits memory_budget_mib. The answers are remembered, and accum: auto uses them.
/// </summary>
[TaskName("ProbeMemory")]
[TaskDescription("Measures each combination's peak memory at accum 1, 2, 4, ... until it fits memory_budget_mib; trains nothing.")]
public sealed class ProbeMemoryTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var rows = ProbeMemoryJob.Run(context.Planning(PlanningMode.Build), context.Planner,
            (combination, accum) => MemoryProber.Measure(context, combination, accum), message => context.Log.Information(message));
        AnsiConsole.Write(ConsoleTables.MemoryProbe(rows, context.Device, context.Pipeline.MemoryBudgetMiB));
    }
}
