using Paddy.Pipeline.Config;

namespace Paddy.Pipeline.Models;

/// <summary>
/// Every named configuration of the four families, looked up as timm does: "arch.tag", a legacy alias
/// (convnext_large_in22k), or a bare architecture name, which picks timm's default tag (often not the 22k one).
/// </summary>
public static class ModelZoo
{
    public static IReadOnlyList<ModelDefinition> All { get; } = Families.All;

    public static IArchitectureCatalog Catalog { get; } = new ZooCatalog();

    public static ModelDefinition Resolve(string name) =>
        All.FirstOrDefault(d => d.Name == name)
        ?? All.FirstOrDefault(d => d.Aliases.Contains(name))
        ?? All.FirstOrDefault(d => d.Architecture == name && d.IsDefaultTag)
        ?? throw new ArgumentException(
            $"Unknown model '{name}'. Known: {string.Join(", ", Names().Order(StringComparer.Ordinal))}.", nameof(name));

    private static IEnumerable<string> Names() =>
        All.SelectMany(d => d.Aliases.Append(d.Name).Append(d.Architecture)).Distinct();

    private sealed class ZooCatalog : IArchitectureCatalog
    {
        private readonly Lazy<IReadOnlyCollection<string>> names = new(() => Names().ToHashSet(StringComparer.Ordinal));

        public IReadOnlyCollection<string> Names => names.Value;

        public string DefaultWeights(string arch) => $"hf:{Resolve(arch).Pretrained.HubId}";
    }
}
