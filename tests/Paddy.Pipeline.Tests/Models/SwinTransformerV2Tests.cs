using System.Text.Json.Nodes;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Models.Weights;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

public class SwinTransformerV2Tests(ITestOutputHelper output)
{
    private const string Fixture = "swinv2";

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
        var config = TimmFixtures.Config(Fixture);
        var listed = config["non_persistent_buffers"]!.AsArray()
            .ToDictionary(b => b!["name"]!.GetValue<string>(), b => b!["stored_as"]!.GetValue<string>());
        var ours = model.NonPersistentBuffers().ToDictionary(b => b.Name, b => b.Buffer);

        Assert.Equal(listed.Keys.Order(), ours.Keys.Order());
        foreach (var (name, storedAs) in listed)
        {
            Assert.True(SwinFixtures.Identical(stored[storedAs], ours[name]), $"{name} differs from timm's {storedAs}");
            Assert.NotNull(model.get_buffer(name));
        }
        Assert.Empty(model.state_dict().Keys.Intersect(ours.Keys));
        // The real hub file is expected to carry these keys; a loader finds their values here.
        var hubKeys = config["hubstyle_extra_keys"]!["keys"]!.AsArray().Select(k => k!.GetValue<string>());
        Assert.All(hubKeys, key => Assert.Contains(key, ours.Keys));
    }

    [Fact]
    public void Window_and_shift_per_block_equal_timm()
    {
        using var model = FixtureModel(loadWeights: false);
        SwinFixtures.AssertLayouts(TimmFixtures.Config(Fixture)["module_details"]!["swin_blocks"]!.AsArray(), model.BlockLayouts);
    }

    [Fact]
    public void Real_swinv2_large_192_has_timms_state_dict_and_clamps_its_last_stage_to_window_6()
    {
        var definition = SwinTransformerV2.Definitions.Single(d => d.Name == "swinv2_large_window12_192.ms_in22k");
        Assert.Equal((192, 192), (definition.Pretrained.InputHeight, definition.Pretrained.InputWidth));
        var real = SwinFixtures.RealModels()["models"]![definition.Name]!;
        using var model = (SwinTransformerV2)definition.Create(new ModelOptions(definition.Pretrained.NumClasses, 192, 192));

        var expected = File.ReadAllLines(Path.Combine(TimmFixtures.Root, "real_models", "swinv2_large_window12_192.state_dict.txt"));
        Assert.Equal(SwinFixtures.ExpectedLines(expected), model.state_dict().Select(p => SwinFixtures.StateDictLine(p.Key, p.Value)));
        Assert.Equal(real["num_features"]!.GetValue<long>(), model.NumFeatures);
        SwinFixtures.AssertLayouts(real["swin_blocks"]!.AsArray(), model.BlockLayouts);

        // In the clamped 6x6 stage the coordinates are scaled by W - 1 = 5, so the largest offset, 5, maps to
        // t = 8 and log2(9) / log2(8).
        var table = model.NonPersistentBuffers().Single(b => b.Name == "layers.3.blocks.0.attn.relative_coords_table").Buffer;
        Assert.Equal([1L, 11, 11, 2], table.shape);
        Assert.Equal(Math.Log2(9) / 3, table.max().item<float>(), 1e-6);
    }

    [Fact]
    public void Coordinates_use_the_pretrained_window_when_one_is_given()
    {
        using var table = SwinV2WindowAttention.RelativeCoordsTable(6, 6, pretrainedWindow: 12);
        // offset 5 of a window pretrained at 12: t = 8 * 5 / 11
        Assert.Equal(Math.Log2(8.0 * 5 / 11 + 1) / 3, table.max().item<float>(), 1e-6);
        // offset (-2, 3): both coordinates, in (row, col) order
        Assert.Equal(-Math.Log2(8.0 * 2 / 11 + 1) / 3, table[0, 3, 8, 0].item<float>(), 1e-6);
        Assert.Equal(Math.Log2(8.0 * 3 / 11 + 1) / 3, table[0, 3, 8, 1].item<float>(), 1e-6);
    }

    [Fact]
    public void Definitions_have_timms_names_sizes_and_legacy_names()
    {
        var byName = SwinTransformerV2.Definitions.ToDictionary(d => d.Name);
        var large = byName["swinv2_large_window12_192.ms_in22k"];
        Assert.Equal(["swinv2_large_window12_192_22k"], large.Aliases);
        Assert.Equal(21841, large.Pretrained.NumClasses);
        Assert.Equal("timm/swinv2_large_window12_192.ms_in22k", large.Pretrained.HubId);
        Assert.True(large.IsDefaultTag);
        foreach (var size in new[] { "tiny", "small", "base" })
            foreach (var window in new[] { 8, 16 })
            {
                var definition = byName[$"swinv2_{size}_window{window}_256.ms_in1k"];
                Assert.Equal((256, 256, 1000), (definition.Pretrained.InputHeight, definition.Pretrained.InputWidth, definition.Pretrained.NumClasses));
            }
    }

    [Fact]
    public void Forward_and_backward_at_a_tiny_size_reach_every_parameter()
    {
        using var model = new SwinTransformerV2(
            new SwinArchitecture(16, 16, PatchSize: 2, InChannels: 3, EmbedDim: 8, [2, 2], [1, 2], WindowHeight: 4, WindowWidth: 4, MaxDropPathRate: 0),
            numClasses: 3);
        using var scope = NewDisposeScope();
        manual_seed(1);
        // A fresh SwinV2 block has zero post-norms, so it passes no gradient to its attention and MLP.
        using (no_grad())
            foreach (var (name, parameter) in model.named_parameters().Where(p => p.name.Contains(".norm")))
                parameter.copy_(1 + 0.2 * randn_like(parameter));
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
    public void A_block_whose_branches_are_always_dropped_is_the_identity_in_training_only()
    {
        using var block = new SwinV2Block(8, 2, 4.0, true, SwinWindowLayout.For(8, 8, 4, 4, oddBlock: true), pretrainedWindow: 0,
            dropPathRate: 1);
        using (no_grad()) foreach (var norm in new[] { block.norm1, block.norm2 }) norm.weight.fill_(1);
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
        Assert.Equal(ScalarType.Float64, buffers["layers.1.blocks.0.attn.k_bias"].dtype);
        Assert.Equal(ScalarType.Float64, buffers["layers.1.blocks.0.attn.relative_coords_table"].dtype);
        Assert.Equal(ScalarType.Int64, buffers["layers.1.blocks.0.attn.relative_position_index"].dtype);
        foreach (var (name, buffer) in buffers) Assert.Same(buffer, model.get_buffer(name));
    }

    [Fact]
    public void Pretrained_window_sizes_are_read_from_timm_arguments_one_per_stage()
    {
        var kwargs = (JsonObject)TimmFixtures.Config(Fixture)["constructor_kwargs"]!.DeepClone();
        kwargs["pretrained_window_sizes"] = new JsonArray(6, 6);
        using var model = SwinTransformerV2.FromTimmArguments(kwargs);
        var table = model.NonPersistentBuffers().Single(b => b.Name == "layers.0.blocks.0.attn.relative_coords_table").Buffer;
        // window 12 scaled by a pretrained 6: offset 11 gives t = 8 * 11 / 5
        Assert.Equal(Math.Log2(8.0 * 11 / 5 + 1) / 3, table.max().item<float>(), 1e-5);

        kwargs["pretrained_window_sizes"] = new JsonArray(6, 6, 6);
        Assert.Throws<ArgumentException>(() => SwinTransformerV2.FromTimmArguments(kwargs));
    }

    private SwinTransformerV2 FixtureModel(bool loadWeights = true)
    {
        var model = SwinTransformerV2.FromTimmArguments(TimmFixtures.Config(Fixture)["constructor_kwargs"]!.AsObject());
        if (loadWeights) WeightLoader.Load(model, TimmFixtures.PathOf(Fixture, "weights.safetensors"));
        model.eval();
        return model;
    }
}
