using Paddy.Pipeline.Models;
using Paddy.Pipeline.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

/// <summary>The layers Swin v1 and v2 (and ViT) share, checked against timm's definitions of them.</summary>
public sealed class SharedLayersTests
{
    [Fact]
    public void Patch_merging_lists_its_parameters_in_timms_order_for_each_version()
    {
        // timm's swin_transformer.PatchMerging declares norm (over 4C) before reduction; swin_transformer_v2's
        // declares reduction before norm (over 2C).
        using var v1 = new SwinPatchMerging(dim: 4, eps: 1e-5, normFirst: true);
        using var v2 = new SwinPatchMerging(dim: 4, eps: 1e-5, normFirst: false);
        Assert.Equal(["norm.weight [16]", "norm.bias [16]", "reduction.weight [8, 16]"], Keys(v1));
        Assert.Equal(["reduction.weight [8, 16]", "norm.weight [8]", "norm.bias [8]"], Keys(v2));
    }

    [Fact]
    public void Patch_merging_normalises_before_reducing_in_v1_and_after_in_v2()
    {
        manual_seed(3);
        using var x = randn(2, 4, 6, 4);
        using var gathered = SwinWindows.MergeNeighbours(x);
        foreach (var normFirst in new[] { true, false })
        {
            using var merging = new SwinPatchMerging(dim: 4, eps: 1e-5, normFirst);
            using (no_grad())
            {
                nn.init.normal_(merging.norm.weight);
                nn.init.normal_(merging.norm.bias);
            }
            Tensor Norm(Tensor t) => nn.functional.layer_norm(t, [merging.norm.weight.shape[0]], merging.norm.weight, merging.norm.bias, 1e-5);
            Tensor Reduce(Tensor t) => nn.functional.linear(t, merging.reduction.weight);
            using var expected = normFirst ? Reduce(Norm(gathered)) : Norm(Reduce(gathered));
            using var actual = merging.forward(x);
            Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-6), $"normFirst {normFirst}");
        }
    }

    [Fact]
    public void Patch_embedding_as_tokens_and_as_a_channels_last_map_holds_the_same_patches()
    {
        manual_seed(5);
        using var tokens = new PatchEmbed((8, 12), patchSize: 4, inChannels: 3, embedDim: 5);
        using var map = new PatchEmbed((8, 12), patchSize: 4, inChannels: 3, embedDim: 5, PatchFormat.Nhwc);
        map.load_state_dict(tokens.state_dict());
        using var x = randn(2, 3, 8, 12);
        using var fromTokens = tokens.forward(x);
        using var fromMap = map.forward(x);
        Assert.Equal([2L, 6, 5], fromTokens.shape);
        Assert.Equal([2L, 2, 3, 5], fromMap.shape);
        // Row-major patch order: token r * 3 + c is the map's cell (r, c).
        TensorAssert.Identical(fromTokens, fromMap.reshape(2, 6, 5));
        Assert.Equal(["proj.weight", "proj.bias"], tokens.state_dict().Keys);
    }

    [Fact]
    public void Patch_embedding_refuses_another_image_size_naming_both()
    {
        using var embed = new PatchEmbed((8, 12), patchSize: 4, inChannels: 3, embedDim: 5);
        var error = Assert.Throws<ArgumentException>(() => embed.forward(zeros(1, 3, 12, 8)));
        Assert.Contains("8x12", error.Message);
        Assert.Contains("12x8", error.Message);
    }

    private static List<string> Keys(nn.Module module) =>
        module.state_dict().Select(p => $"{p.Key} [{string.Join(", ", p.Value.shape)}]").ToList();
}
