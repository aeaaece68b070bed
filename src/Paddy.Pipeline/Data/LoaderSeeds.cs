namespace Paddy.Pipeline.Data;

/// <summary>
/// Seeds derived from (loader seed, stream, epoch, index) with SplitMix64, so that every random draw of an epoch is
/// a pure function of its position: a resumed run or another thread order replays exactly. Training epochs and TTA
/// passes draw from different streams, so TTA pass i does not replay training epoch i.
/// </summary>
public static class LoaderSeeds
{
    public static int Derive(int seed, LoaderStream stream, int epoch, int index)
    {
        var z = Mix(Mix((ulong)(uint)seed) ^ (ulong)stream) ^ Mix(((ulong)(uint)epoch << 32) | (uint)index);
        return (int)(Mix(z) & 0x7FFFFFFF);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>The independent random streams of a loader seed.</summary>
public enum LoaderStream
{
    /// <summary>Training epochs: shuffle, random crops, batch augmentation.</summary>
    Training = 1,
    /// <summary>TTA passes: random crops and batch augmentation of the test items.</summary>
    TestTimeAugmentation = 2,
}
