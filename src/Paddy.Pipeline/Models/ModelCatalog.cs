using Paddy.Pipeline.Config;

namespace Paddy.Pipeline.Models;

/// <summary>
/// Every named configuration we can build, resolved the way timm resolves a model name: "arch.tag" exactly,
/// a bare "arch" to its default tag, or a legacy name (for example convnext_large_in22k) to its tag.
/// </summary>
public static class ModelCatalog
{
    public static IReadOnlyList<ModelDefinition> All { get; } =
    [
        .. ConvNeXt.Definitions,
        .. VisionTransformer.Definitions,
        .. SwinTransformer.Definitions,
        .. SwinTransformerV2.Definitions,
    ];

    public static ModelDefinition Resolve(string name) =>
        TryResolve(name) ?? throw new KeyNotFoundException(
            $"No model named '{name}'. Use 'architecture.tag' (for example convnext_large.fb_in22k), a bare " +
            $"architecture for its default tag, or a legacy alias. Architectures: {string.Join(", ", All.Select(d => d.Architecture).Distinct())}.");

    public static ModelDefinition? TryResolve(string name) =>
        All.FirstOrDefault(d => d.Name == name)
        ?? All.FirstOrDefault(d => d.IsDefaultTag && d.Architecture == name)
        ?? All.FirstOrDefault(d => d.Aliases.Contains(name));

    /// <summary>The names pipeline.yaml may use as arch (every name, bare architecture and legacy alias) and their default weights.</summary>
    public static IArchitectureCatalog Names { get; } = new ArchitectureNames();

    private sealed class ArchitectureNames : IArchitectureCatalog
    {
        private readonly Lazy<IReadOnlyCollection<string>> names = new(() =>
            All.SelectMany(d => d.Aliases.Append(d.Name).Append(d.Architecture)).ToHashSet(StringComparer.Ordinal));

        IReadOnlyCollection<string> IArchitectureCatalog.Names => names.Value;

        public string DefaultWeights(string arch) => $"hf:{Resolve(arch).Pretrained.HubId}";
    }
}
