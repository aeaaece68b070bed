using Paddy.Pipeline.Models.Weights;

namespace Paddy.Pipeline.Tests.Models;

public sealed class HubProgressLinesTests
{
    [Fact]
    public void ReportsEveryByte_PrintOneLinePerTenth()
    {
        var output = new StringWriter();
        var lines = new HubProgressLines(output);

        for (var done = 1; done <= 1000; done++)
            lines.Report(new HubDownloadProgress("hf:timm/x", done * 1000L, 1_000_000, 2_000_000));

        var printed = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(11, printed.Length);
        Assert.Equal("hf:timm/x: 0% (0.0 of 1.0 MB, 2.0 MB/s)", printed[0]);
        Assert.Equal("hf:timm/x: 100% (1.0 of 1.0 MB, 2.0 MB/s)", printed[^1]);
    }

    [Fact]
    public void ResumedDownload_StartsAtTheTenthItHasReached()
    {
        var output = new StringWriter();
        var lines = new HubProgressLines(output);

        lines.Report(new HubDownloadProgress("hf:timm/x", 570, 1000, 10));
        lines.Report(new HubDownloadProgress("hf:timm/x", 590, 1000, 10));

        Assert.StartsWith("hf:timm/x: 50%", Assert.Single(output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)));
    }
}
