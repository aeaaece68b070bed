using Paddy.Pipeline.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

/// <summary>Switches the process-wide default device, so nothing else may build tensors meanwhile.</summary>
[CollectionDefinition(nameof(DefaultDeviceCollection), DisableParallelization = true)]
public sealed class DefaultDeviceCollection;

/// <summary>
/// Our full-size models have exactly the state dict (names, order, shapes) that current timm gives the real
/// pretrained models, listed in tests/fixtures/timm/real_models/*.state_dict.txt.
/// </summary>
[Collection(nameof(DefaultDeviceCollection))]
public sealed class RealModelStateDictTests
{
    /// <summary>Which named configuration each listed state dict belongs to.</summary>
    private static readonly Dictionary<string, string> ModelByFile = new(StringComparer.Ordinal)
    {
        ["convnext_large"] = "convnext_large.fb_in22k",
        ["convnext_small"] = "convnext_small.fb_in22k",
        ["vit_large_patch16_224"] = "vit_large_patch16_224.augreg_in21k",
        ["swin_large_patch4_window7_224"] = "swin_large_patch4_window7_224.ms_in22k",
        ["swinv2_large_window12_192"] = "swinv2_large_window12_192.ms_in22k",
    };

    public static TheoryData<string> StateDictFiles() => new(
        Directory.GetFiles(Path.Combine(TimmFixtures.Root, "real_models"), "*.state_dict.txt")
            .Select(f => Path.GetFileName(f)[..^".state_dict.txt".Length])
            .Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(StateDictFiles))]
    public void State_dict_names_and_shapes_equal_timm(string file)
    {
        Assert.True(ModelByFile.TryGetValue(file, out var name),
            $"No model is mapped to real_models/{file}.state_dict.txt; add it to {nameof(ModelByFile)}.");
        var expected = File.ReadLines(Path.Combine(TimmFixtures.Root, "real_models", $"{file}.state_dict.txt"))
            .Where(line => !line.StartsWith('#') && line.Length > 0)
            .Select(line => line.Split('\t'))
            .Select(parts => $"{parts[0]} {parts[1]}")
            .ToList();
        var definition = ModelCatalog.Resolve(name);
        var pretrained = definition.Pretrained;

        // The meta device allocates no memory, so the 300M-parameter models cost nothing to build.
        torch.set_default_device(torch.META);
        List<string> actual;
        long numFeatures;
        try
        {
            using var model = definition.Create(new ModelOptions(pretrained.NumClasses, pretrained.InputHeight, pretrained.InputWidth));
            actual = model.state_dict().Select(p => $"{p.Key} [{string.Join(", ", p.Value.shape)}]").ToList();
            Assert.All(model.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
            numFeatures = model.NumFeatures;
        }
        finally
        {
            torch.set_default_device(torch.CPU);
        }
        Assert.Equal(expected, actual);
        var facts = System.Text.Json.Nodes.JsonNode.Parse(
            File.ReadAllText(Path.Combine(TimmFixtures.Root, "real_models", "real_models.json")))!["models"]![name]!;
        Assert.Equal(facts["num_features"]!.GetValue<long>(), numFeatures);
    }
}
