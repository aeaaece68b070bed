using Paddy.Pipeline.Models;

namespace Paddy.Pipeline.Benchmarks.TrainStep;

/// <summary>A model of the benchmark at its input size (height, width), named as benchmarks/pytorch/train_step.py names it.</summary>
public sealed record TrainStepModel(string Name, int Height, int Width, Func<TimmModel> Body);

/// <summary>The seed's four architectures at the seed's sizes, and small stand-ins of each family for the CPU.</summary>
public static class TrainStepModels
{
    public static IReadOnlyList<TrainStepModel> Seed { get; } =
    [
        Catalog("convnext_large_in22k", 320, 224),
        Catalog("vit_large_patch16_224", 224, 224),
        Catalog("swinv2_large_window12_192_22k", 192, 192),
        Catalog("swin_large_patch4_window7_224", 224, 224),
    ];

    /// <summary>convnext_atto non-square as convnext_large is; the Swin families at 64 with tiny's widths and window 4.</summary>
    public static IReadOnlyList<TrainStepModel> Tiny { get; } =
    [
        Catalog("convnext_atto", 64, 48),
        Catalog("vit_tiny_patch16_224", 64, 64),
        new("swin_tiny_window4", 64, 64, () => new SwinTransformer(ModelBenchmark.TinySwin(64), 0)),
        new("swinv2_tiny_window4", 64, 64, () => new SwinTransformerV2(ModelBenchmark.TinySwin(64), 0)),
    ];

    /// <summary>"seed", "tiny", or names from either list separated by commas.</summary>
    public static IReadOnlyList<TrainStepModel> Select(string choice) => choice switch
    {
        "seed" => Seed,
        "tiny" => Tiny,
        _ => choice.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(name => Seed.Concat(Tiny).FirstOrDefault(m => m.Name == name)
                ?? throw new ArgumentException(
                    $"No benchmark model named '{name}'; use seed, tiny or one of: {string.Join(", ", Seed.Concat(Tiny).Select(m => m.Name))}."))
            .ToList(),
    };

    private static TrainStepModel Catalog(string name, int height, int width) =>
        new(name, height, width, () => ModelCatalog.Resolve(name).Create(new ModelOptions(0, height, width)));
}
