using Paddy.Pipeline.Device;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Optimization;

/// <summary>
/// torch's GradScaler for float16 training: the loss is multiplied by <see cref="Scale"/> before backward so
/// that small gradients survive in half precision; before the step the gradients are divided back. A step
/// whose gradients hold inf or NaN is skipped and the scale halves; after <see cref="GrowthInterval"/>
/// consecutive clean steps the scale doubles.
/// </summary>
public sealed class LossScaler
{
    private bool? lastStepOverflowed;

    public LossScaler(double initialScale = 65536, double growthFactor = 2, double backoffFactor = 0.5, int growthInterval = 2000)
    {
        Scale = initialScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
    }

    public double Scale { get; private set; }
    public double GrowthFactor { get; }
    public double BackoffFactor { get; }
    public int GrowthInterval { get; }

    /// <summary>Consecutive clean steps since the scale last changed (torch's growth tracker).</summary>
    public int CleanSteps { get; private set; }

    public Tensor ScaleLoss(Tensor loss)
    {
        using var scale = Scale.ToScalar();
        return loss.mul(scale);
    }

    public const long FiniteCheckChunkElements = 1L << 22;

    /// <summary>
    /// Divides the gradients by the scale in place; returns false when any of them holds inf or NaN. Its one host
    /// read is the only one the training step makes per optimizer step; pass the optimizer's flat gradient buffers.
    /// </summary>
    public bool Unscale(IEnumerable<Tensor> gradients)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var inverse = (1.0 / Scale).ToScalar();
        Tensor? allFinite = null;
        foreach (var gradient in gradients)
        {
            gradient.mul_(inverse);
            // In chunks: a flat gradient buffer holds a whole group, and one isfinite over it would allocate a mask of
            // the model's size; a mask of 4M values stays in the cache.
            var values = gradient.reshape(-1);
            for (long start = 0; start < values.shape[0]; start += FiniteCheckChunkElements)
            {
                var finite = values.narrow(0, start, Math.Min(FiniteCheckChunkElements, values.shape[0] - start)).isfinite().all();
                allFinite = allFinite is null ? finite : allFinite.logical_and(finite);
            }
        }
        bool clean = allFinite is null || HostReads.Item<bool>(allFinite);
        lastStepOverflowed = !clean;
        return clean;
    }

    /// <summary>Adjusts the scale after a step attempt (torch's GradScaler.update); needs a prior <see cref="Unscale"/>.</summary>
    public void Update()
    {
        bool overflowed = lastStepOverflowed
            ?? throw new InvalidOperationException("LossScaler.Update was called without Unscale for this step.");
        lastStepOverflowed = null;
        if (overflowed)
        {
            Scale *= BackoffFactor;
            CleanSteps = 0;
            return;
        }
        CleanSteps++;
        if (CleanSteps == GrowthInterval)
        {
            Scale *= GrowthFactor;
            CleanSteps = 0;
        }
    }

    /// <summary>Sets the scale and tracker saved in a checkpoint.</summary>
    public void Restore(double scale, int cleanSteps)
    {
        Scale = scale;
        CleanSteps = cleanSteps;
        lastStepOverflowed = null;
    }
}
