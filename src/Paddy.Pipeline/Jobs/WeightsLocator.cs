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

    /// <summary>The weights' file when it is already on this machine, asking no hub and downloading nothing; else null.</summary>
    public static string? FindLocal(string id, string baseDirectory)
    {
        var source = WeightsSource.Parse(id, baseDirectory);
        if (source.HubFile is null) return File.Exists(source.LocalPath) ? source.LocalPath : null;
        return new HubCache(HubOptions.FromEnvironment().CacheDirectory, source.HubFile).FindCachedFile();
    }
}
