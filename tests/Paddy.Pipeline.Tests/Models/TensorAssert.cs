using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Models;

public static class TensorAssert
{
    /// <summary>Same shape and bit-for-bit the same values (TorchSharp's Tensor.equal is elementwise, not torch.equal).</summary>
    public static void Identical(Tensor expected, Tensor actual, string because = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.eq(actual).all().item<bool>(), $"tensors differ {because}");
    }
}
