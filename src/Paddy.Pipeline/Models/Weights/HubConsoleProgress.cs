using Spectre.Console;

namespace Paddy.Pipeline.Models.Weights;

/// <summary>Shows downloads: a Spectre.Console progress bar on a terminal, plain lines when output is redirected.</summary>
public static class HubConsoleProgress
{
    /// <summary>Runs <paramref name="work"/> with a progress sink that draws on the console.</summary>
    public static Task<T> RunAsync<T>(Func<IProgress<HubDownloadProgress>, Task<T>> work) =>
        Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive
            ? work(new HubProgressLines(Console.Out))
            : RunWithBarsAsync(AnsiConsole.Console, work);

    internal static Task<T> RunWithBarsAsync<T>(IAnsiConsole console, Func<IProgress<HubDownloadProgress>, Task<T>> work) =>
        console.Progress()
            .AutoClear(false)
            .Columns(
                new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(context => work(new SpectreBars(context)));

    private sealed class SpectreBars(ProgressContext context) : IProgress<HubDownloadProgress>
    {
        private readonly Dictionary<string, ProgressTask> _bars = [];

        public void Report(HubDownloadProgress value)
        {
            lock (_bars)
            {
                // A bar appears only once bytes flow, so a cached file draws nothing.
                if (!_bars.TryGetValue(value.Id, out var bar))
                    _bars[value.Id] = bar = context.AddTask(Markup.Escape(value.Id), maxValue: value.TotalBytes);
                bar.Value = value.BytesDone;
            }
        }
    }
}

/// <summary>
/// Progress as plain lines, one each time a download passes another tenth of its size, so logs of redirected
/// output stay short whatever the file's size.
/// </summary>
public sealed class HubProgressLines(TextWriter output) : IProgress<HubDownloadProgress>
{
    private const int Steps = 10;
    private readonly Dictionary<string, int> _lastStep = [];

    public void Report(HubDownloadProgress value)
    {
        var step = (int)Math.Floor(Math.Clamp(value.Fraction, 0, 1) * Steps);
        lock (_lastStep)
        {
            if (_lastStep.TryGetValue(value.Id, out var last) && step <= last)
                return;
            _lastStep[value.Id] = step;
        }
        output.WriteLine(
            $"{value.Id}: {step * 100 / Steps}% ({Megabytes(value.BytesDone)} of {Megabytes(value.TotalBytes)} MB, " +
            $"{Megabytes((long)value.BytesPerSecond)} MB/s)");
    }

    private static string Megabytes(long bytes) => (bytes / 1e6).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
}
