using Paddy.Build.Frosting;
using Paddy.Pipeline.Jobs;
using Spectre.Console;

namespace Paddy.Build.Tasks;

/// <summary>Like `dvc status`: which Train tasks are up to date, and exactly why the others would train. Trains nothing.</summary>
[TaskName("Status")]
[TaskDescription("Says for each Train task whether it is up to date, and if not exactly why (config field, data files, weights, code), and whether submission.csv is current.")]
public sealed class StatusTask : FrostingTask<BuildContext>
{
    public override void Run(BuildContext context)
    {
        var members = context.Pipeline.Models.Select(m => (context.Decisions[m.TaskName], m.EnsembleWeight)).ToList();
        var (tasks, ensemble) = StatusJob.ExplainRun(context.Store, members, context.Planner.DataListings);
        foreach (var status in tasks.Append(ensemble))
        {
            AnsiConsole.MarkupLine(status.UpToDate
                ? $"[green]{Markup.Escape(status.Task)}[/]: up to date"
                : $"[yellow]{Markup.Escape(status.Task)}[/]: stale");
            if (!status.UpToDate)
                foreach (var reason in status.Reasons) AnsiConsole.MarkupLine($"    {Markup.Escape(reason)}");
        }
        var stale = tasks.Count(s => !s.UpToDate);
        AnsiConsole.MarkupLine(stale == 0
            ? "Every Train task is up to date."
            : $"{stale} of {tasks.Count} Train task(s) would train.");
    }
}
