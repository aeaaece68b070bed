using Cake.Core;
using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Build.Tasks;
using Paddy.Build.Worker;
using Paddy.Pipeline.Jobs;

namespace Paddy.Build;

/// <summary>
/// Decides once, before the first task, what the run needs for the tasks being executed: every Train task's plan,
/// fingerprint and accum: auto answer, and whether it is up to date, restored or trained. Tasks only read these
/// decisions. A dry run decides without writing or starting anything and says what would happen; after the last task,
/// a run in which any task failed fails, naming each failure.
/// </summary>
public sealed class BuildLifetime : FrostingLifetime<BuildContext>
{
    /// <summary>Targets that read every combination's plan, not only the plans of the Train tasks they run.</summary>
    private static readonly string[] ReadEveryPlan =
        [.. new[] { typeof(EnsembleTask), typeof(SubmitTask), typeof(PlanTask), typeof(StatusTask) }.Select(RegisteredTask.NameOf)];

    public override void Setup(BuildContext context, ISetupContext info)
    {
        var executed = info.TasksToExecute.Select(t => t.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var everyPlan = executed.Overlaps(ReadEveryPlan);
        var combinations = context.Pipeline.Models.Where(m => everyPlan || executed.Contains(m.TaskName)).ToList();
        var mode = context.DryRun ? PlanningMode.DryRun
            : executed.Contains(RegisteredTask.NameOf(typeof(StatusTask))) ? PlanningMode.Status
            : PlanningMode.Build;
        context.Decided(RunPlanning.Decide(context.Planning(mode), context.Planner, combinations,
            (combination, accum) => MemoryProber.Measure(context, combination, accum), message => context.Log.Information(message)));
        if (!context.DryRun) return;
        foreach (var decision in context.Decisions.Values) context.Log.Information(decision.WouldDo);
        if (executed.Contains(RegisteredTask.NameOf(typeof(ProbeMemoryTask))))
            context.Log.Information("ProbeMemory: would probe memory for each combination without a remembered answer.");
    }

    public override void Teardown(BuildContext context, ITeardownContext info)
    {
        // A failed task was handled so that the others went on; the run as a whole still failed.
        if (info.Successful && context.FailedTasks.Count > 0)
            throw new CakeException($"{context.FailedTasks.Count} task(s) failed:{Environment.NewLine}"
                + string.Join(Environment.NewLine, context.FailedTasks.Select(f => $"  {f.Key}: {f.Value}")));
    }
}
