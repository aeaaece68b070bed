using Paddy.Pipeline.Models.Weights;
using Spectre.Console;

namespace Paddy.Pipeline.Tests.Models;

public sealed class HubConsoleProgressTests
{
    [Fact]
    public async Task Bars_ShowEachDownloadById_AndPassTheWorksResultThrough()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(output),
        });

        var result = await HubConsoleProgress.RunWithBarsAsync(console, progress =>
        {
            progress.Report(new HubDownloadProgress("hf:timm/first", 500, 1000, 100));
            progress.Report(new HubDownloadProgress("hf:timm/second", 1000, 1000, 100));
            progress.Report(new HubDownloadProgress("hf:timm/first", 1000, 1000, 100));
            return Task.FromResult("resolved path");
        });

        Assert.Equal("resolved path", result);
        var lines = output.ToString().Split('\n');
        // The last frame drawn shows every download finished, each on its own bar.
        Assert.Contains("100%", lines.Last(line => line.Contains("hf:timm/first ")));
        Assert.Contains("100%", lines.Last(line => line.Contains("hf:timm/second ")));
    }
}
