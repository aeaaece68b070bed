using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Models.Layers;

/// <summary>timm's drop_path (stochastic depth) for a residual branch.</summary>
public static class DropPath
{
    /// <summary>
    /// In training, zeroes the whole branch of each sample with probability <paramref name="rate"/> and scales
    /// the kept ones by 1 / (1 - rate); the identity in eval or at rate 0.
    /// </summary>
    public static Tensor Apply(Tensor branch, double rate, bool training)
    {
        if (rate == 0 || !training) return branch;
        var keep = 1 - rate;
        var shape = new long[branch.dim()];
        Array.Fill(shape, 1L);
        shape[0] = branch.shape[0];
        using var kept = empty(shape, branch.dtype, branch.device).bernoulli_(keep);
        using var keepScalar = keep.ToScalar();
        if (keep > 0) kept.div_(keepScalar);
        return branch * kept;
    }
}
