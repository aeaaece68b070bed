using System.Globalization;

namespace Paddy.Pipeline.Training;

/// <summary>
/// fastai's lr_max argument: one rate for every group, slice(hi) (every group but the last gets hi/10),
/// or slice(lo, hi) (rates spread geometrically from lo to hi over the groups).
/// </summary>
public readonly record struct LrSlice
{
    private LrSlice(double? start, double stop, bool uniform)
    {
        if (!(stop > 0)) throw new ArgumentOutOfRangeException(nameof(stop), stop, "A learning rate must be positive.");
        if (start is { } s && !(s > 0)) throw new ArgumentOutOfRangeException(nameof(start), s, "A learning rate must be positive.");
        Start = start;
        Stop = stop;
        Uniform = uniform;
    }

    public double? Start { get; }
    public double Stop { get; }
    public bool Uniform { get; }

    /// <summary>fastai's plain float: the same rate for every group.</summary>
    public static LrSlice All(double lr) => new(null, lr, uniform: true);

    /// <summary>fastai's slice(stop).</summary>
    public static LrSlice Upto(double stop) => new(null, stop, uniform: false);

    /// <summary>fastai's slice(start, stop).</summary>
    public static LrSlice Between(double start, double stop) => new(start, stop, uniform: false);

    public double[] ForGroups(int groupCount)
    {
        if (groupCount < 1) throw new ArgumentOutOfRangeException(nameof(groupCount), groupCount, "A model has at least one parameter group.");
        if (Uniform) return Enumerable.Repeat(Stop, groupCount).ToArray();
        if (Start is not { } start)
            return Enumerable.Repeat(Stop / 10, groupCount - 1).Append(Stop).ToArray();
        if (groupCount == 1) return [Stop];
        // fastai's even_mults, computed in the same order so that the rates match its doubles.
        double step = Math.Pow(Stop / start, 1.0 / (groupCount - 1));
        return Enumerable.Range(0, groupCount).Select(i => start * Math.Pow(step, i)).ToArray();
    }

    public override string ToString() => Uniform
        ? Stop.ToString("R", CultureInfo.InvariantCulture)
        : Start is { } start
            ? string.Create(CultureInfo.InvariantCulture, $"slice({start:R}, {Stop:R})")
            : string.Create(CultureInfo.InvariantCulture, $"slice({Stop:R})");
}
