using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

/// <summary>
/// Which parts of Swin and SwinV2 compute in the half type under autocast, as torch.autocast's CUDA lists place them:
/// convolution, linear and matmul in half; LayerNorm, the attention softmax, SwinV2's normalize, exp(logit_scale) and
/// position-bias sigmoid in float32; residual sums in float32; parameters and their gradients float32.
/// </summary>
public class SwinAutocastTests
{
    public static TheoryData<string, ScalarType> FamiliesAndHalfTypes() => new()
    {
        { "swin", ScalarType.BFloat16 }, { "swin", ScalarType.Float16 },
        { "swinv2", ScalarType.BFloat16 }, { "swinv2", ScalarType.Float16 },
    };

    [Theory]
    [MemberData(nameof(FamiliesAndHalfTypes))]
    public void Projections_compute_in_half_and_norms_residuals_and_features_in_float32(string fixture, ScalarType half)
    {
        using var model = Build(fixture);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = TimmFixtures.Input(fixture);
        using var autocast = Autocast.Enable(half);

        var patchEmbed = model is SwinTransformer v1 ? v1.patch_embed : ((SwinTransformerV2)model).patch_embed;
        Assert.Equal(half, patchEmbed.proj.forward(input).dtype);
        var tokens = patchEmbed.forward(input);
        Assert.Equal(ScalarType.Float32, tokens.dtype);

        var windows = tokens.reshape(-1, WindowArea(fixture), tokens.shape[^1]);
        var parts = model is SwinTransformer swin
            ? (Qkv: swin.layers[0].blocks[1].attn.qkv, Attention: (nn.Module<Tensor, Tensor?, Tensor>)swin.layers[0].blocks[1].attn,
                Norm: swin.layers[0].blocks[1].norm1, Mlp: swin.layers[0].blocks[1].mlp, Block: (nn.Module<Tensor, Tensor>)swin.layers[0].blocks[1])
            : (((SwinTransformerV2)model).layers[0].blocks[1].attn.qkv, ((SwinTransformerV2)model).layers[0].blocks[1].attn,
                ((SwinTransformerV2)model).layers[0].blocks[1].norm1, ((SwinTransformerV2)model).layers[0].blocks[1].mlp,
                ((SwinTransformerV2)model).layers[0].blocks[1]);
        Assert.Equal(half, parts.Qkv.forward(windows).dtype);
        Assert.Equal(half, parts.Attention.forward(windows, null).dtype);
        Assert.Equal(ScalarType.Float32, parts.Norm.forward(windows).dtype);
        Assert.Equal(half, parts.Mlp.forward(windows).dtype);
        Assert.Equal(ScalarType.Float32, parts.Block.forward(tokens).dtype);

        var features = model.forward_features(input);
        Assert.Equal(ScalarType.Float32, features.dtype);
        Assert.Equal(half, model.forward_head(features).dtype);
        Assert.Equal(ScalarType.Float32, model.forward_head(features, preLogits: true).dtype);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void SwinV2_position_bias_mlp_computes_in_half_and_the_attention_stays_finite_at_the_largest_logit_scale(ScalarType half)
    {
        using var model = (SwinTransformerV2)Build("swinv2");
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(3);
        var attn = model.layers[0].blocks[1].attn;
        attn.logit_scale.fill_(Math.Log(100));
        var windows = randn(4, WindowArea("swinv2"), attn.qkv.InFeatures);
        using var autocast = Autocast.Enable(half);
        Assert.Equal(half, attn.cpb_mlp.forward(randn(1, 3, 3, 2)).dtype);
        var attended = attn.forward(windows, null);
        Assert.Equal(half, attended.dtype);
        Assert.True(attended.isfinite().all().item<bool>());
    }

    [Theory]
    [MemberData(nameof(FamiliesAndHalfTypes))]
    public void Backward_under_autocast_gives_every_parameter_a_finite_float32_gradient(string fixture, ScalarType half)
    {
        using var model = Build(fixture);
        using var scope = NewDisposeScope();
        var input = TimmFixtures.Input(fixture);
        Tensor logits;
        using (Autocast.Enable(half)) logits = model.forward(input);
        Assert.Equal(half, logits.dtype);
        nn.functional.cross_entropy(logits.to_type(ScalarType.Float32), tensor(new long[] { 1, 7 })).backward();
        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.True(parameter.grad is { } grad && grad.dtype == ScalarType.Float32, $"{name} has no float32 gradient");
            Assert.True(parameter.grad!.isfinite().all().item<bool>(), $"{name} has a non-finite gradient");
        }
    }

    private static TimmModel Build(string fixture)
    {
        var kwargs = TimmFixtures.Config(fixture)["constructor_kwargs"]!.AsObject();
        return fixture == "swin" ? SwinTransformer.FromTimmArguments(kwargs) : SwinTransformerV2.FromTimmArguments(kwargs);
    }

    private static int WindowArea(string fixture) => fixture == "swin" ? 49 : 144;
}
