using Paddy.Pipeline.Device;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Conv2d = Paddy.Pipeline.Models.Layers.Conv2d;

namespace Paddy.Pipeline.Tests.Models;

public class Conv2dTests(ITestOutputHelper output)
{
    // Every operand of the bfloat16 test is a bfloat16 number, so an exact bfloat16 kernel with float32 accumulation
    // differs from the float64 truth only by rounding its result: at most 2^-9 of the largest value. libtorch's
    // bfloat16 matrix product rounds the product and then the bias sum (measured up to 6.5e-3 here), so the bound is
    // 2^-6; the broken oneDNN convolutions miss it by 15x to 60x (0.25 to 0.96, and NaN).
    private static readonly double BFloat16Bound = Math.Pow(2, -6);

    /// <summary>
    /// The shapes of the models' convolutions: the Swin fixture's and convnext_atto's patch stems (output channels
    /// not a multiple of 16), convnext_atto's and convnext_tiny's first downsampling, a depthwise 7x7 and a real stem.
    /// </summary>
    [Theory]
    [InlineData(3, 24, 4, 4, 0, 1)]
    [InlineData(3, 40, 4, 4, 0, 1)]
    [InlineData(40, 80, 2, 2, 0, 1)]
    [InlineData(96, 192, 2, 2, 0, 1)]
    [InlineData(24, 24, 7, 1, 3, 24)]
    [InlineData(3, 96, 4, 4, 0, 1)]
    public void Bfloat16_autocast_forward_and_gradients_are_exact_to_bfloat16_rounding(
        int inChannels, int outChannels, int kernel, int stride, int padding, int groups)
    {
        manual_seed(inChannels * 1000 + outChannels);
        using var conv = new Conv2d(inChannels, outChannels, kernel, stride, padding, groups);
        using var scope = NewDisposeScope();
        using (no_grad())
            foreach (var parameter in conv.parameters()) parameter.copy_(RoundedToBFloat16(parameter));
        var x = RoundedToBFloat16(randn(2, inChannels, 28, 28)).requires_grad_();
        var outputSide = (28 + 2 * padding - kernel) / stride + 1;
        var upstream = RoundedToBFloat16(randn(2, outChannels, outputSide, outputSide));

        Tensor y;
        using (Autocast.Enable(ScalarType.BFloat16)) y = conv.forward(x);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        (y.to_type(ScalarType.Float32) * upstream).sum().backward();

        var (y64, x64, w64) = Float64Truth(conv, x, upstream, stride, padding, groups);

        AssertWithinBFloat16Rounding("output", y, y64);
        AssertWithinBFloat16Rounding("input gradient", x.grad!, x64.grad!);
        AssertWithinBFloat16Rounding("weight gradient", conv.weight.grad!, w64.grad!);
        Assert.Equal(ScalarType.Float32, conv.weight.grad!.dtype);
    }

    [Theory]
    [InlineData(3, 24, 4, 4, 0, 1)]
    [InlineData(40, 80, 2, 2, 0, 1)]
    [InlineData(40, 64, 2, 2, 0, 1)]
    [InlineData(40, 40, 7, 1, 3, 40)]
    [InlineData(40, 24, 1, 1, 0, 1)]
    public void Float32_forward_and_gradients_equal_float64_to_float32_precision(
        int inChannels, int outChannels, int kernel, int stride, int padding, int groups)
    {
        manual_seed(inChannels * 1000 + outChannels);
        using var conv = new Conv2d(inChannels, outChannels, kernel, stride, padding, groups);
        using var scope = NewDisposeScope();
        var x = randn(2, inChannels, 29, 29).requires_grad_();
        var outputSide = (29 + 2 * padding - kernel) / stride + 1;
        var upstream = randn(2, outChannels, outputSide, outputSide);
        var y = conv.forward(x);
        (y * upstream).sum().backward();

        var (y64, x64, w64) = Float64Truth(conv, x, upstream, stride, padding, groups);

        // float32 sums of a few hundred products: a few units of 2^-24 each, far inside 1e-5 of the largest value.
        AssertWithin("output", y, y64, 1e-5);
        AssertWithin("input gradient", x.grad!, x64.grad!, 1e-5);
        AssertWithin("weight gradient", conv.weight.grad!, w64.grad!, 1e-5);
    }

    /// <summary>The convolution and the gradients of sum(output * upstream) in float64, from the layer's own values.</summary>
    private static (Tensor Output, Tensor Input, Tensor Weight) Float64Truth(
        Conv2d conv, Tensor x, Tensor upstream, int stride, int padding, int groups)
    {
        var x64 = x.detach().to_type(ScalarType.Float64).requires_grad_();
        var w64 = conv.weight.detach().to_type(ScalarType.Float64).requires_grad_();
        var y64 = nn.functional.conv2d(x64, w64, conv.bias!.detach().to_type(ScalarType.Float64),
            strides: [stride, stride], padding: [padding, padding], groups: groups);
        (y64 * upstream.to_type(ScalarType.Float64)).sum().backward();
        return (y64, x64, w64);
    }

    private void AssertWithinBFloat16Rounding(string what, Tensor actual, Tensor truth) => AssertWithin(what, actual, truth, BFloat16Bound);

    private void AssertWithin(string what, Tensor actual, Tensor truth, double bound)
    {
        var error = (actual.to_type(ScalarType.Float64) - truth).abs().max().item<double>() / truth.abs().max().item<double>();
        output.WriteLine($"{what}: max error / max |truth| = {error:E2}");
        Assert.True(error <= bound, $"{what}: max error is {error:E2} of the largest value, above {bound:E2}");
    }

    private static Tensor RoundedToBFloat16(Tensor t) => t.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32);
}
