using static TorchSharp.torch;

namespace Paddy.Pipeline.Training.Callbacks;

/// <summary>
/// Reseeds torch's global generator (dropout's) before every epoch from the seed and the epoch counted over all
/// fits (<see cref="Learner.LoaderEpoch"/>), so that every epoch draws afresh and a resumed epoch draws exactly
/// what the uninterrupted epoch drew.
/// </summary>
public sealed class EpochSeeding(long seed) : Callback
{
    public override int Order => -100;

    public override void BeforeEpoch()
    {
        long epochSeed = unchecked(seed * 1_000_003L + Learner.LoaderEpoch);
        manual_seed(epochSeed);
        if (cuda.is_available()) cuda.manual_seed_all(epochSeed);
    }
}
