using static TorchSharp.torch;

namespace Paddy.Pipeline.Training;

/// <summary>How a <see cref="Learner"/> trains; the defaults are fastai's.</summary>
public sealed record LearnerOptions
{
    /// <summary>Folder for the checkpoint that lets an interrupted FineTune resume; created when missing.</summary>
    public required string WorkFolder { get; init; }

    /// <summary>Seeds torch's generator at each epoch (with the phase and epoch), so that dropout replays on resume.</summary>
    public long Seed { get; init; }

    /// <summary>Float16 or BFloat16 for mixed precision (fastai's to_fp16 / to_bf16); null trains in float32.</summary>
    public ScalarType? MixedPrecision { get; init; }

    /// <summary>fastai's GradientAccumulation(n_acc): samples per optimizer step; 0 steps after every batch.</summary>
    public int AccumulationSamples { get; init; }

    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Where the epoch tables go.</summary>
    public TextWriter Output { get; init; } = Console.Out;

    /// <summary>Whether to redraw a progress line per batch; by default only when Output is an interactive console.</summary>
    public bool? LiveProgress { get; init; }
}
