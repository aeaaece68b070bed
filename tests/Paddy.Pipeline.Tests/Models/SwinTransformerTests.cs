using System.Text.Json.Nodes;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Models.Layers;
using Paddy.Pipeline.Models.Weights;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

public class SwinTransformerTests(ITestOutputHelper output)
{
    private const string Fixture = "swin";

    [Fact]
    public void Fixture_outputs_match_timm_within_1e4()
    {
        using var model = FixtureModel();
        using var input = SafeTensors.Load(TimmFixtures.PathOf(Fixture, "input.safetensors"));
        using var expected = SafeTensors.Load(TimmFixtures.PathOf(Fixture, "expected.safetensors"));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = input["input"];

        var embedded = model.patch_embed.forward(x);
        var stage0 = model.layers[0].forward(embedded);
        var stage1 = model.layers[1].forward(stage0);
        var features = model.forward_features(x);
        var checks = new (string Name, Tensor Actual)[]
        {
            ("intermediate.patch_embed", embedded), ("intermediate.layers.0", stage0), ("intermediate.layers.1", stage1),
            ("features", features), ("pre_logits", model.forward_head(features, preLogits: true)), ("logits", model.forward(x)),
        };
        foreach (var (name, actual) in checks)
        {
            var (maxAbs, fraction) = SwinFixtures.Compare(actual, expected[name]);
            output.WriteLine($"{name}: max abs error {maxAbs:E2}, worst fraction of tolerance {fraction:F3}");
            Assert.True(fraction <= 1, $"{name}: max abs error {maxAbs:E2} is outside atol=rtol=1e-4");
        }
    }

    [Fact]
    public void State_dict_names_shapes_and_order_equal_timm()
    {
        using var model = FixtureModel(loadWeights: false);
        var expected = TimmFixtures.Config(Fixture)["state_dict"]!.AsArray()
            .Select(e => (e!["name"]!.GetValue<string>(), SwinFixtures.Shape(e["shape"]))).ToList();
        var actual = model.state_dict().Select(p => (p.Key, p.Value.shape)).ToList();
        Assert.Equal(expected.Select(e => e.Item1), actual.Select(a => a.Key));
        Assert.Equal(expected.Select(e => e.Item2), actual.Select(a => a.shape));
    }

    [Fact]
    public void Computed_buffers_equal_timm_and_stay_out_of_the_state_dict()
    {
        using var model = FixtureModel(loadWeights: false);
        using var stored = SafeTensors.Load(TimmFixtures.PathOf(Fixture, "buffers.safetensors"));
        var listed = TimmFixtures.Config(Fixture)["non_persistent_buffers"]!.AsArray()
            .ToDictionary(b => b!["name"]!.GetValue<string>(), b => b!["stored_as"]!.GetValue<string>());
        var ours = model.NonPersistentBuffers().ToDictionary(b => b.Name, b => b.Buffer);

        Assert.Equal(listed.Keys.Order(), ours.Keys.Order());
        foreach (var (name, storedAs) in listed)
        {
            var expected = stored[storedAs];
            Assert.True(SwinFixtures.Identical(expected, ours[name]), $"{name} differs from timm's {storedAs}");
            Assert.NotNull(model.get_buffer(name));
        }
        Assert.Empty(model.state_dict().Keys.Intersect(ours.Keys));
    }

    [Fact]
    public void Window_and_shift_per_block_equal_timm()
    {
        using var model = FixtureModel(loadWeights: false);
        SwinFixtures.AssertLayouts(TimmFixtures.Config(Fixture)["module_details"]!["swin_blocks"]!.AsArray(), model.BlockLayouts);
    }

    [Fact]
    public void Hub_checkpoint_extra_buffer_keys_are_ours_and_skipping_them_gives_the_same_logits()
    {
        using var model = FixtureModel();
        using var hub = SafeTensors.Load(TimmFixtures.PathOf(Fixture, "weights_hubstyle.safetensors"));
        var buffers = model.NonPersistentBuffers().ToDictionary(b => b.Name, b => b.Buffer);
        var extra = hub.Tensors.Select(t => t.Key).Except(model.state_dict().Keys).ToHashSet();
        Assert.NotEmpty(extra);
        Assert.Subset(buffers.Keys.ToHashSet(), extra);
        foreach (var key in extra) Assert.True(SwinFixtures.Identical(hub[key], buffers[key]), key);

        using var fromHub = FixtureModel(loadWeights: false);
        WeightLoader.Load(fromHub, TimmFixtures.PathOf(Fixture, "weights_hubstyle.safetensors"));
        using var input = SafeTensors.Load(TimmFixtures.PathOf(Fixture, "input.safetensors"));
        using var noGrad = no_grad();
        Assert.True(SwinFixtures.Identical(model.forward(input["input"]), fromHub.forward(input["input"])));
    }

    [Fact]
    public void Real_swin_large_definition_has_timms_state_dict_and_window_table()
    {
        var definition = SwinTransformer.Definitions.Single(d => d.Name == "swin_large_patch4_window7_224.ms_in22k");
        var real = SwinFixtures.RealModels()["models"]![definition.Name]!;
        Assert.Equal(real["pretrained_cfgs"]![definition.Name]!["num_classes"]!.GetValue<int>(), definition.Pretrained.NumClasses);
        using var model = (SwinTransformer)definition.Create(new ModelOptions(definition.Pretrained.NumClasses, 224, 224));

        var expected = File.ReadAllLines(Path.Combine(TimmFixtures.Root, "real_models", "swin_large_patch4_window7_224.state_dict.txt"));
        var actual = model.state_dict().Select(p => SwinFixtures.StateDictLine(p.Key, p.Value)).ToList();
        Assert.Equal(SwinFixtures.ExpectedLines(expected), actual);
        Assert.Equal(real["num_features"]!.GetValue<long>(), model.NumFeatures);
        SwinFixtures.AssertLayouts(real["swin_blocks"]!.AsArray(), model.BlockLayouts);
    }

    [Fact]
    public void Definitions_have_timms_tags_default_tags_and_legacy_names()
    {
        var byName = SwinTransformer.Definitions.ToDictionary(d => d.Name);
        var real = SwinFixtures.RealModels();
        var large = real["models"]!["swin_large_patch4_window7_224.ms_in22k"]!;
        var tags = large["all_pretrained_tags_in_timm"]!.AsArray().Select(t => t!.GetValue<string>()).Order();
        Assert.Equal(tags, byName.Keys.Where(n => n.StartsWith("swin_large_patch4_window7_224.")).Order());
        Assert.Equal(large["default_tag"]!.GetValue<string>(),
            SwinTransformer.Definitions.Single(d => d.Architecture == "swin_large_patch4_window7_224" && d.IsDefaultTag).Tag);
        Assert.Equal(["swin_large_patch4_window7_224_in22k"], byName["swin_large_patch4_window7_224.ms_in22k"].Aliases);
        Assert.Equal("timm/swin_large_patch4_window7_224.ms_in22k", byName["swin_large_patch4_window7_224.ms_in22k"].Pretrained.HubId);
        Assert.Equal("ms_in1k", SwinTransformer.Definitions.Single(d => d.Architecture == "swin_tiny_patch4_window7_224" && d.IsDefaultTag).Tag);
        foreach (var size in new[] { "tiny", "small", "base", "large" })
            Assert.Contains($"swin_{size}_patch4_window7_224.ms_in22k", byName.Keys);
    }

    [Fact]
    public void Forward_and_backward_at_a_tiny_size_reach_every_parameter()
    {
        using var model = new SwinTransformer(
            new SwinArchitecture(16, 16, PatchSize: 2, InChannels: 3, EmbedDim: 8, [2, 2], [1, 2], WindowHeight: 4, WindowWidth: 4, MaxDropPathRate: 0),
            numClasses: 3);
        using var scope = NewDisposeScope();
        manual_seed(1);
        var logits = model.forward(randn(2, 3, 16, 16));
        Assert.Equal([2L, 3L], logits.shape);
        nn.functional.cross_entropy(logits, tensor(new long[] { 0, 2 })).backward();
        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.True(parameter.grad is { } grad && grad.isfinite().all().item<bool>(), $"{name} has no finite gradient");
            Assert.True(parameter.grad!.abs().sum().item<float>() > 0, $"{name} got a zero gradient");
        }
    }

    [Fact]
    public void A_non_square_size_that_windows_do_not_divide_is_padded_and_shifted_per_side()
    {
        // grid 10 x 7 with window 4: stage 0 pads 10 to 12 and 7 to 8 and shifts both sides; stage 1 (5 x 4)
        // pads 5 to 8, shifts rows by 2 and leaves the 4 columns, one whole window, unshifted.
        using var model = new SwinTransformer(
            new SwinArchitecture(40, 28, PatchSize: 4, InChannels: 3, EmbedDim: 8, [2, 2], [1, 2], WindowHeight: 4, WindowWidth: 4),
            numClasses: 3);
        model.eval();
        Assert.Equal(new SwinWindowLayout(5, 4, 4, 4, 2, 0), model.BlockLayouts[3].Layout);
        var masks = model.NonPersistentBuffers().Where(b => b.Name.EndsWith("attn_mask")).ToDictionary(b => b.Name, b => b.Buffer);
        Assert.Equal([6L, 16, 16], masks["layers.0.blocks.1.attn_mask"].shape);
        Assert.Equal([2L, 16, 16], masks["layers.1.blocks.1.attn_mask"].shape);
        using var noGrad = no_grad();
        using var features = model.forward_features(randn(2, 3, 40, 28));
        Assert.Equal([2L, 5, 4, 16], features.shape);
        Assert.True(features.isfinite().all().item<bool>());
    }

    [Fact]
    public void Drop_path_rates_rise_linearly_from_the_first_to_the_last_block()
    {
        using var model = new SwinTransformer(
            new SwinArchitecture(32, 32, PatchSize: 2, InChannels: 3, EmbedDim: 8, [2, 1, 3], [1, 2, 4], WindowHeight: 4,
                WindowWidth: 4, MaxDropPathRate: 0.3),
            numClasses: 3);
        var rates = model.layers.SelectMany(stage => stage.blocks).Select(block => block.DropPathRate).ToArray();
        Assert.Equal(new[] { 0, 0.06, 0.12, 0.18, 0.24, 0.3 }, rates, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Drop_path_drops_whole_samples_in_training_and_scales_the_kept_ones()
    {
        manual_seed(7);
        using var branch = ones(2000, 3, 5);
        using var dropped = DropPath.Apply(branch, 0.25, training: true);
        using var perSample = dropped.amax([1, 2]);
        Assert.True(dropped.eq(perSample.view(-1, 1, 1)).all().item<bool>(), "each sample is kept or dropped whole");
        Assert.True((perSample.eq(0) | perSample.eq(1 / 0.75f)).all().item<bool>());
        var keptFraction = perSample.gt(0).to_type(ScalarType.Float32).mean().item<float>();
        Assert.InRange(keptFraction, 0.72, 0.78);
        Assert.Same(branch, DropPath.Apply(branch, 0.25, training: false));
    }

    [Fact]
    public void A_block_whose_branches_are_always_dropped_is_the_identity_in_training_only()
    {
        using var block = new SwinTransformerBlock(8, 2, 4.0, true, SwinWindowLayout.For(8, 8, 4, 4, oddBlock: true), dropPathRate: 1);
        using var x = randn(2, 8, 8, 8);
        using (var trained = block.forward(x)) Assert.True(SwinFixtures.Identical(x, trained));
        block.eval();
        using var evaluated = block.forward(x);
        Assert.False(SwinFixtures.Identical(x, evaluated));
    }

    [Fact]
    public void Bfloat16_autocast_forward_is_close_to_float32()
    {
        using var model = FixtureModel();
        using var input = SafeTensors.Load(TimmFixtures.PathOf(Fixture, "input.safetensors"));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var reference = model.forward(input["input"]);
        Tensor mixed;
        using (Autocast.Enable(ScalarType.BFloat16)) mixed = model.forward(input["input"]);
        var relative = ((mixed.to_type(ScalarType.Float32) - reference).abs().max() / reference.abs().max()).item<float>();
        output.WriteLine($"bfloat16 autocast: max |logit error| / max |logit| = {relative:E2}");
        Assert.True(relative < 5e-2, $"relative error {relative}");
    }

    [Fact]
    public void Converting_the_model_converts_the_computed_buffers_too()
    {
        using var model = FixtureModel(loadWeights: false);
        model.to(ScalarType.Float64);
        var buffers = model.NonPersistentBuffers().ToDictionary(b => b.Name, b => b.Buffer);
        Assert.Equal(ScalarType.Float64, buffers["layers.0.blocks.1.attn_mask"].dtype);
        Assert.Equal(ScalarType.Int64, buffers["layers.0.blocks.1.attn.relative_position_index"].dtype);
        foreach (var (name, buffer) in buffers) Assert.Same(buffer, model.get_buffer(name));
        Assert.Empty(model.state_dict().Keys.Intersect(buffers.Keys));
    }

    [Fact]
    public void An_input_of_another_size_is_refused_with_the_size_the_model_was_built_for()
    {
        using var model = FixtureModel(loadWeights: false);
        using var wrong = zeros(1, 3, 64, 64);
        var error = Assert.Throws<ArgumentException>(() => model.forward(wrong));
        Assert.Contains("[B, 3, 56, 56]", error.Message);
    }

    [Fact]
    public void Unported_timm_arguments_are_refused()
    {
        var kwargs = (JsonObject)TimmFixtures.Config(Fixture)["constructor_kwargs"]!.DeepClone();
        kwargs["always_partition"] = true;
        var error = Assert.Throws<ArgumentException>(() => SwinTransformer.FromTimmArguments(kwargs));
        Assert.Contains("always_partition", error.Message);
    }

    private SwinTransformer FixtureModel(bool loadWeights = true)
    {
        var model = SwinTransformer.FromTimmArguments(TimmFixtures.Config(Fixture)["constructor_kwargs"]!.AsObject());
        if (loadWeights) WeightLoader.Load(model, TimmFixtures.PathOf(Fixture, "weights.safetensors"));
        model.eval();
        return model;
    }
}
