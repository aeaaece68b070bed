namespace Paddy.Pipeline.Data;

/// <summary>
/// Seeds derived from (loader seed, epoch, index) with SplitMix64, so that every random draw of an epoch is a pure
/// function of its position: a resumed run, another thread order or a TTA pass replays exactly.
/// </summary>
public static class LoaderSeeds
{
    public static int Derive(int seed, int epoch, int index)
    {
        var z = Mix((ulong)(uint)seed) ^ Mix(((ulong)(uint)epoch << 32) | (uint)index);
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
