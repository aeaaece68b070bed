using Paddy.Pipeline.Device;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>nn.Conv2d (square kernel) with torch's default initialisation, computing in the autocast type when a scope is open.</summary>
public sealed class Conv2d : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    public readonly Parameter? bias;
    private readonly long kernelSize;
    private readonly long stride;
    private readonly long padding;
    private readonly long groups;

    public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
        long groups = 1, bool hasBias = true) : base(nameof(Conv2d))
    {
        this.kernelSize = kernelSize;
        this.stride = stride;
        this.padding = padding;
        this.groups = groups;
        weight = new Parameter(empty(outChannels, inChannels / groups, kernelSize, kernelSize));
        nn.init.kaiming_uniform_(weight, Math.Sqrt(5));
        if (hasBias)
        {
            var bound = 1.0 / Math.Sqrt(inChannels / groups * kernelSize * kernelSize);
            bias = new Parameter(empty(outChannels));
            nn.init.uniform_(bias, -bound, bound);
        }
        RegisterComponents();
    }

    /// <summary>A dense convolution whose kernel tiles the input without overlap (patch embeddings, downsampling, 1x1).</summary>
    public bool IsPatchwise => kernelSize == stride && padding == 0 && groups == 1;

    public override Tensor forward(Tensor x)
    {
        var (input, w, b) = (Autocast.ForCompute(x), Autocast.ForCompute(weight), bias is null ? null : Autocast.ForCompute(bias));
        return IsPatchwise && x.device_type == DeviceType.CPU
            ? PatchwiseAsMatmul(input, w, b)
            : nn.functional.conv2d(input, w, b, strides: [stride, stride], padding: [padding, padding], groups: groups);
    }

    // libtorch 2.10's oneDNN convolution kernels for AVX-512 CPUs (CI's and this project's AMD EPYC) return wrong
    // values for dense convolutions whose channel counts are not multiples of 16: float32 40 -> 80 channels
    // (convnext_atto's first downsampling) is off by a third of the result; bfloat16 also for 3 -> 24 or 40
    // (patch stems), with NaN for some shapes and wrong input gradients for most (pytorch/pytorch#163347;
    // measured in Conv2dTests; ONEDNN_MAX_CPU_ISA=AVX2 avoids them). A patchwise convolution is exactly a matrix
    // product over the non-overlapping patches, and libtorch's matrix products are right, so on the CPU it runs as
    // one. Depthwise convolutions are right in oneDNN and stay convolutions; CUDA keeps cuDNN's.
    private Tensor PatchwiseAsMatmul(Tensor x, Tensor w, Tensor? b)
    {
        using var scope = NewDisposeScope();
        var (batch, channels) = (x.shape[0], x.shape[1]);
        var (rows, cols) = (x.shape[2] / kernelSize, x.shape[3] / kernelSize);
        var patches = x[.., .., ..(int)(rows * kernelSize), ..(int)(cols * kernelSize)]
            .reshape(batch, channels, rows, kernelSize, cols, kernelSize)
            .permute(0, 2, 4, 1, 3, 5)
            .reshape(batch, rows, cols, channels * kernelSize * kernelSize);
        return nn.functional.linear(patches, w.reshape(w.shape[0], -1), b).permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }
}
