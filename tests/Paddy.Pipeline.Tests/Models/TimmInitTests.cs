using Paddy.Pipeline.Models;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

public sealed class TimmInitTests
{
    [Fact]
    public void Truncated_normal_has_the_requested_spread_within_the_bounds()
    {
        using var weights = empty(20_000);
        TimmInit.TruncatedNormal(weights, std: 0.02);
        Assert.InRange(weights.std().item<float>(), 0.0196, 0.0204);
        Assert.InRange(weights.mean().item<float>(), -0.0005, 0.0005);
        Assert.InRange(weights.abs().max().item<float>(), 0.05, 2.0);
    }

    [Fact]
    public void Fresh_models_are_initialised_as_timm_does()
    {
        using var convnext = new ConvNeXt([1, 1], [32, 64], numClasses: 10);
        Assert.InRange(convnext.named_parameters().First(p => p.name == "stages.1.downsample.1.weight").parameter.std().item<float>(), 0.018, 0.022);
        Assert.Equal(0f, convnext.head.fc!.bias!.abs().max().item<float>());
        Assert.All(convnext.named_parameters().Where(p => p.name.EndsWith("gamma")),
            p => Assert.All(p.parameter.data<float>().ToArray(), g => Assert.Equal(1e-6f, g)));

        using var vit = new VisionTransformer((32, 32), 16, embedDim: 64, depth: 1, numHeads: 2, numClasses: 10);
        Assert.InRange(vit.pos_embed.std().item<float>(), 0.016, 0.024);
        Assert.InRange(vit.named_parameters().First(p => p.name == "blocks.0.attn.qkv.weight").parameter.std().item<float>(), 0.019, 0.021);
        Assert.True(vit.cls_token.abs().max().item<float>() < 1e-4);
    }
}
