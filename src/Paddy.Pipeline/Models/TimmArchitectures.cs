using System.Text.Json.Nodes;

namespace Paddy.Pipeline.Models;

/// <summary>
/// timm model classes we port, by class name, each built from timm constructor kwargs. This is the one place
/// that maps a timm class (as a fixture's config.json names it) to our implementation.
/// </summary>
public static class TimmArchitectures
{
    public static IReadOnlyDictionary<string, Func<JsonObject, TimmModel>> ByClassName { get; } =
        new Dictionary<string, Func<JsonObject, TimmModel>>(StringComparer.Ordinal)
        {
            ["ConvNeXt"] = ConvNeXt.FromTimmArguments,
            ["VisionTransformer"] = VisionTransformer.FromTimmArguments,
            ["SwinTransformer"] = SwinTransformer.FromTimmArguments,
            ["SwinTransformerV2"] = SwinTransformerV2.FromTimmArguments,
        };

    /// <summary>Builds a model for a timm class name, short ("ConvNeXt") or qualified ("timm.models.convnext.ConvNeXt").</summary>
    public static TimmModel Create(string modelClass, JsonObject kwargs)
    {
        var shortName = modelClass[(modelClass.LastIndexOf('.') + 1)..];
        if (!ByClassName.TryGetValue(shortName, out var create))
            throw new NotSupportedException(
                $"timm model class '{modelClass}' is not ported. Ported classes: {string.Join(", ", ByClassName.Keys)}. " +
                "Port it and add it to Models/TimmArchitectures.cs, or use one of the ported classes.");
        return create(kwargs);
    }
}
