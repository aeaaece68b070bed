using Cake.Core.Diagnostics;
using Paddy.Build.Frosting;
using Paddy.Pipeline.Jobs;

namespace Paddy.Build.Tasks;

/// <summary>The combinations as a GitHub Actions matrix for CI, written to artifacts/&lt;pipeline&gt;/plan.json and printed.</summary>
[TaskName("Plan")]
[TaskDescription("Prints the Train tasks as a JSON matrix for CI (task, fingerprint, whether already done); trains nothing.")]
public sealed class PlanTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var (json, path) = PlanJob.Write(context.Store, context.Pipeline.Models.Select(m => context.Decisions[m.TaskName]));
        context.Log.Information($"Plan written to {path}:");
        Console.Out.WriteLine(json);
    }
}
