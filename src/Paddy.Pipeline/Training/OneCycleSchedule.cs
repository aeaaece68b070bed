namespace Paddy.Pipeline.Training;

/// <summary>
/// fastai's fit_one_cycle schedules: lr rises from lr_max/div to lr_max over the first pctStart of training and
/// falls to lr_max/divFinal; beta1 falls from moms.1 to moms.2 and rises back to moms.3; both cosine-annealed.
/// Positions run from 0 (first batch of the fit) to 1 (end of the fit).
/// </summary>
public sealed record OneCycleSchedule(
    IReadOnlyList<double> LrMax, double Div, double DivFinal, double PctStart, (double Start, double Middle, double End) Moms)
{
    public double LearningRate(int group, double position) =>
        CombinedCos(PctStart, LrMax[group] / Div, LrMax[group], LrMax[group] / DivFinal, position);

    public double Beta1(double position) => CombinedCos(PctStart, Moms.Start, Moms.Middle, Moms.End, position);

    public static double Cos(double start, double end, double position) =>
        start + (1 + Math.Cos(Math.PI * (1 - position))) * (end - start) / 2;

    /// <summary>fastai's combined_cos; at and after pct the second half applies (fastai's combine_scheds).</summary>
    public static double CombinedCos(double pct, double start, double middle, double end, double position) =>
        position < pct
            ? Cos(start, middle, position / pct)
            : Cos(middle, end, (position - pct) / (1 - pct));
}
