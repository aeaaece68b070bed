using Paddy.Pipeline.Models;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

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

    [Fact]
    public void Fresh_swin_and_swinv2_are_initialised_as_timm_does()
    {
        var architecture = new SwinArchitecture(32, 32, PatchSize: 4, InChannels: 3, EmbedDim: 64, [1, 1], [2, 4], WindowHeight: 4, WindowWidth: 4);
        using var swin = new SwinTransformer(architecture, numClasses: 10);
        using var swinV2 = new SwinTransformerV2(architecture, numClasses: 10);
        foreach (var model in new Module[] { swin, swinV2 })
        {
            var linears = model.named_modules().Where(m => m.module is Paddy.Pipeline.Models.Layers.Linear).ToList();
            Assert.NotEmpty(linears);
            foreach (var (name, module) in linears)
            {
                var linear = (Paddy.Pipeline.Models.Layers.Linear)module;
                // torch's default would give std 1/sqrt(3 fan_in): 0.072 for fan_in 64, 0.41 for cpb_mlp's fan_in 2.
                if (linear.weight.numel() >= 4096)
                    Assert.InRange(linear.weight.std().item<float>(), 0.0185, 0.0215);
                Assert.True(linear.weight.abs().max().item<float>() < 0.02 * 8, $"{name}: weights beyond 8 std");
                if (linear.bias is { } bias) Assert.Equal(0f, bias.abs().max().item<float>());
            }
        }
        Assert.InRange(swin.layers[0].blocks[0].attn.relative_position_bias_table.std().item<float>(), 0.015, 0.025);
        Assert.All(new[] { swin.norm.weight, swin.layers[0].blocks[0].norm1.weight, swinV2.norm.weight },
            w => Assert.All(w.data<float>().ToArray(), v => Assert.Equal(1f, v)));
        Assert.All(new[] { swin.norm.bias, swinV2.norm.bias }, b => Assert.Equal(0f, b.abs().max().item<float>()));
        // SwinV2's residual post-norms start at zero (timm's _init_respostnorm), so each fresh block is the identity.
        Assert.Equal(0f, swinV2.layers[1].blocks[0].norm2.weight.abs().max().item<float>());
        var cpbLast = (Paddy.Pipeline.Models.Layers.Linear)swinV2.layers[0].blocks[0].attn.cpb_mlp[2];
        Assert.InRange(cpbLast.weight.std().item<float>(), 0.015, 0.025);
    }
}
