using System.Text.Json.Nodes;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Models.Layers;
using Paddy.Pipeline.Models.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

public sealed class VisionTransformerResamplingTests
{
    [Fact]
    public void Weights_for_64x64_load_into_a_96x64_model_with_pos_embed_resampled_bicubic()
    {
        var kwargs = TimmFixtures.Config("vit")["constructor_kwargs"]!.AsObject().DeepClone().AsObject();
        kwargs["img_size"] = new JsonArray(96, 64);
        using var model = VisionTransformer.FromTimmArguments(kwargs);
        var weightsPath = TimmFixtures.PathOf("vit", "weights.safetensors");
        WeightLoader.Load(model, weightsPath);

        using var file = SafeTensors.Load(weightsPath);
        var stored = file["pos_embed"];
        Assert.Equal([1L, 1 + 4 * 4, 48], stored.shape);
        using var grid = stored[.., 1..].reshape(1, 4, 4, 48).permute(0, 3, 1, 2);
        using var resized = nn.functional.interpolate(grid, size: [6, 4], mode: InterpolationMode.Bicubic,
            align_corners: false, antialias: true);
        using var expectedGrid = resized.permute(0, 2, 3, 1).reshape(1, 24, 48);

        Assert.Equal([1L, 1 + 6 * 4, 48], model.pos_embed.shape);
        TensorAssert.Identical(stored[.., ..1], model.pos_embed[.., ..1], "(class-token slot)");
        Assert.True(expectedGrid.allclose(model.pos_embed[.., 1..], rtol: 0, atol: 1e-7), "grid part differs from the bicubic resample");
        // Everything else is taken as stored.
        TensorAssert.Identical(file["blocks.1.attn.qkv.weight"], ((VisionTransformerBlock)model.blocks[1]).attn.qkv.weight);

        model.eval();
        using var noGrad = no_grad();
        using var features = model.forward_features(randn(2, 3, 96, 64));
        Assert.Equal([2L, 1 + 24, 48], features.shape);
    }

    [Fact]
    public void Resampling_a_grid_to_its_own_size_returns_it_unchanged()
    {
        using var posEmbed = randn(1, 1 + 3 * 3, 5);
        using var same = PosEmbed.ResampleAbsolute(posEmbed, (3, 3), (3, 3), prefixTokens: 1);
        Assert.True(same.allclose(posEmbed, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Input_of_another_size_than_built_for_is_refused_with_the_fix()
    {
        using var model = new VisionTransformer((32, 32), patchSize: 16, embedDim: 8, depth: 1, numHeads: 2, numClasses: 3);
        var error = Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 3, 48, 32)));
        Assert.Contains("32x32", error.Message);
        Assert.Contains("48x32", error.Message);
    }
}
