namespace Paddy.Pipeline.Config;

/// <summary>What the configuration needs to know of the model zoo: which names exist and their default weights.</summary>
public interface IArchitectureCatalog
{
    IReadOnlyCollection<string> Names { get; }

    /// <summary>The weights id used when a model gives none (for example hf:timm/convnext_large.fb_in22k).</summary>
    string DefaultWeights(string arch);
}
