using Paddy.Pipeline.Models.Weights;

namespace Paddy.Pipeline.Jobs;

/// <summary>The local file for a pipeline's weights id: a path, or a hub id resolved (and downloaded if absent) in the HF cache.</summary>
public static class WeightsLocator
{
    public static string Resolve(string id, string baseDirectory)
    {
        var source = WeightsSource.Parse(id, baseDirectory);
        return HubConsoleProgress.RunAsync(progress => source.ResolveAsync(HubOptions.FromEnvironment(), progress, CancellationToken.None))
            .GetAwaiter().GetResult();
    }
}
