using Paddy.Pipeline.Config;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Data;

/// <summary>fastai's RandomSplitter: a random permutation; validation = its first int(validPct * n) indices.</summary>
public static class RandomSplit
{
    /// <summary>Indices of the training and validation items. torch.randperm with a seeded generator is the
    /// permutation fastai draws after torch.manual_seed(seed).</summary>
    public static (int[] Train, int[] Valid) Split(int count, double validPct, int seed)
    {
        if (validPct is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validPct), validPct, "valid_pct must be in [0, 1).");
        using var generator = new TorchSharp.torch.Generator((ulong)(uint)seed);
        using var permutation = randperm(count, generator: generator);
        var order = permutation.data<long>().Select(i => (int)i).ToArray();
        var cut = (int)(validPct * count);
        return (order[cut..], order[..cut]);
    }

    /// <summary>
    /// The split one combination trains and validates on: with data.split per_model its own, drawn from its own seed
    /// (the notebook drew a fresh split per model); with shared, one drawn from the pipeline seed, identical for
    /// every model, so that the ensemble can be measured on every held-out image.
    /// </summary>
    public static (int[] Train, int[] Valid) For(DataSettings data, int count, int pipelineSeed, int combinationSeed) =>
        Split(count, data.ValidPct, data.Split == DataSplit.Shared ? pipelineSeed : combinationSeed);
}
