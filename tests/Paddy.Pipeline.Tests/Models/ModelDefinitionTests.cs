using System.Text.Json.Nodes;
using Paddy.Pipeline.Models;

namespace Paddy.Pipeline.Tests.Models;

public sealed class ModelDefinitionTests
{
    private static JsonObject RealModels() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TimmFixtures.Root, "real_models", "real_models.json")))!.AsObject();

    /// <summary>real_models.json models whose timm class is ported (listed in TimmArchitectures).</summary>
    public static TheoryData<string> PortedRealModels() => new(
        RealModels()["models"]!.AsObject()
            .Where(m => TimmArchitectures.ByClassName.ContainsKey(m.Value!["model_class"]!.GetValue<string>()))
            .Select(m => m.Key));

    [Theory]
    [MemberData(nameof(PortedRealModels))]
    public void Pretrained_configs_default_tags_and_legacy_names_match_timm(string name)
    {
        var facts = RealModels()["models"]![name]!;
        foreach (var (cfgName, cfgNode) in facts["pretrained_cfgs"]!.AsObject())
        {
            var cfg = cfgNode!;
            var definition = ModelCatalog.Resolve(cfgName);
            Assert.Equal(cfgName, definition.Name);
            var pretrained = definition.Pretrained;
            var inputSize = cfg["input_size"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
            Assert.Equal(inputSize, new[] { pretrained.InputChannels, pretrained.InputHeight, pretrained.InputWidth });
            Assert.Equal(cfg["fixed_input_size"]!.GetValue<bool>(), pretrained.FixedInputSize);
            Assert.Equal(cfg["interpolation"]!.GetValue<string>(), pretrained.Interpolation);
            Assert.Equal(cfg["crop_pct"]!.GetValue<double>(), pretrained.CropPct);
            Assert.Equal(cfg["mean"]!.AsArray().Select(n => n!.GetValue<double>()), pretrained.Mean);
            Assert.Equal(cfg["std"]!.AsArray().Select(n => n!.GetValue<double>()), pretrained.Std);
            Assert.Equal(cfg["num_classes"]!.GetValue<int>(), pretrained.NumClasses);
            Assert.Equal(cfg["hf_hub_id"]!.GetValue<string>(), pretrained.HubId);
        }
        var architecture = facts["architecture"]!.GetValue<string>();
        Assert.Equal($"{architecture}.{facts["default_tag"]!.GetValue<string>()}", ModelCatalog.Resolve(architecture).Name);
        Assert.Equal(facts["old_name_resolves_to"]!.GetValue<string>(), ModelCatalog.Resolve(facts["old_name"]!.GetValue<string>()).Name);
    }

    [Fact]
    public void Every_architecture_has_exactly_one_default_tag_and_names_are_unique()
    {
        Assert.All(ModelCatalog.All.GroupBy(d => d.Architecture), g => Assert.Single(g, d => d.IsDefaultTag));
        var names = ModelCatalog.All.SelectMany(d => d.Aliases.Append(d.Name)).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(ModelCatalog.All, d => Assert.Equal($"timm/{d.Name}", d.Pretrained.HubId));
        foreach (var size in new[] { "atto", "femto", "pico", "nano", "tiny", "small", "base", "large" })
            Assert.NotNull(ModelCatalog.TryResolve($"convnext_{size}"));
        foreach (var size in new[] { "tiny", "small", "base", "large" })
        {
            Assert.Equal($"vit_{size}_patch16_224.augreg_in21k", ModelCatalog.Resolve($"vit_{size}_patch16_224_in21k").Name);
            Assert.Equal(21843, ModelCatalog.Resolve($"vit_{size}_patch16_224_in21k").Pretrained.NumClasses);
        }
        foreach (var size in new[] { "tiny", "small", "base", "large" })
            Assert.Equal(21841, ModelCatalog.Resolve($"convnext_{size}_in22k").Pretrained.NumClasses);
    }

    [Fact]
    public void Unknown_name_is_refused_with_the_accepted_forms()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => ModelCatalog.Resolve("convnext_huge"));
        Assert.Contains("convnext_huge", error.Message);
        Assert.Contains("architecture.tag", error.Message);
    }

    [Fact]
    public void ConvNeXt_without_classes_keeps_head_norm_and_has_no_fc()
    {
        using var model = ConvNeXt.FromTimmArguments(new JsonObject
        {
            ["depths"] = new JsonArray(1, 1), ["dims"] = new JsonArray(8, 16), ["num_classes"] = 0,
        });
        var keys = model.state_dict().Keys.Where(k => k.StartsWith("head.")).ToList();
        Assert.Equal(["head.norm.weight", "head.norm.bias"], keys);
        using var output = model.forward(TorchSharp.torch.randn(2, 3, 64, 32));
        Assert.Equal([2L, 16], output.shape);
    }

    [Fact]
    public void ConvNeXt_without_layer_scale_has_no_gamma()
    {
        using var model = ConvNeXt.FromTimmArguments(new JsonObject
        {
            ["depths"] = new JsonArray(1), ["dims"] = new JsonArray(8), ["ls_init_value"] = null,
        });
        Assert.DoesNotContain(model.state_dict().Keys, k => k.EndsWith("gamma"));
        Assert.Contains("stages.0.blocks.0.conv_dw.weight", model.state_dict().Keys);
    }

    [Fact]
    public void Small_ConvNeXt_variants_use_convolutional_mlp_weights()
    {
        using var atto = ModelCatalog.Resolve("convnext_atto").Create(new ModelOptions(10, 64, 64));
        var shapes = atto.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);
        Assert.Equal([160L, 40, 1, 1], shapes["stages.0.blocks.0.mlp.fc1.weight"]);
        Assert.Equal([40L, 1, 7, 7], shapes["stages.0.blocks.0.conv_dw.weight"]);
    }

    [Fact]
    public void Timm_arguments_that_are_not_ported_are_refused_by_name()
    {
        var error = Assert.Throws<ArgumentException>(() => VisionTransformer.FromTimmArguments(new JsonObject
        {
            ["img_size"] = 32, ["embed_dim"] = 8, ["depth"] = 1, ["num_heads"] = 2, ["class_token"] = false,
        }));
        Assert.Contains("class_token", error.Message);
        Assert.Contains("embed_dim", error.Message);
    }
}
