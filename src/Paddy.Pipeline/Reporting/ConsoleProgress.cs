using Spectre.Console;

namespace Paddy.Pipeline.Reporting;

/// <summary>A Spectre.Console progress bar for long work when the console is a terminal; silent otherwise (CI logs, workers).</summary>
public static class ConsoleProgress
{
    public static T Run<T>(string description, int total, Func<IProgress<int>, T> work)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive || total == 0)
            return work(new Progress<int>());
        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var bar = context.AddTask(Markup.Escape(description), maxValue: total);
                return work(new Bar(bar));
            });
    }

    /// <summary>Reports are counts done so far, from any thread.</summary>
    private sealed class Bar(ProgressTask task) : IProgress<int>
    {
        public void Report(int done) => task.Value = done;
    }
}
