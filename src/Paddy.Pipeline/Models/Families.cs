namespace Paddy.Pipeline.Models;

/// <summary>The families whose named configurations make up the zoo.</summary>
internal static class Families
{
    public static IReadOnlyList<ModelDefinition> All { get; } = [];
}
