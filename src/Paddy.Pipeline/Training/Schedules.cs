using Paddy.Pipeline.Training.Callbacks;

namespace Paddy.Pipeline.Training;

/// <summary>
/// fastai's callback/schedule.py: fit_one_cycle and fine_tune, beside the <see cref="Learner"/> rather than in it.
/// Each fit gets a <see cref="OneCycleScheduler"/> for its duration; everything else is the learner's callbacks.
/// </summary>
public static class Schedules
{
    public static readonly (double Start, double Middle, double End) DefaultMoms = (0.95, 0.85, 0.95);

    /// <summary>
    /// fastai's fit_one_cycle: lr from lrMax/div up to lrMax over the first pctStart of the fit and down to
    /// lrMax/divFinal, beta1 from moms.Start down to moms.Middle and back to moms.End, both cosine-annealed.
    /// <paramref name="wd"/> null keeps the learner's weight decay, as fastai's wd=None does.
    /// </summary>
    public static void FitOneCycle(this Learner learn, int epochs, LrSlice lrMax, double div = 25, double divFinal = 1e5,
        double pctStart = 0.25, (double Start, double Middle, double End)? moms = null, double? wd = null,
        CancellationToken cancellation = default)
    {
        if (!(pctStart >= 0 && pctStart < 1)) throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pct_start lies in [0, 1).");
        var schedule = new OneCycleSchedule(lrMax.ForGroups(learn.Groups.Count), div, divFinal, pctStart, moms ?? DefaultMoms);
        foreach (var hyper in learn.Optimizer.Hyperparameters) hyper.WeightDecay = wd ?? learn.WeightDecay;
        learn.Fit(epochs, [new OneCycleScheduler(schedule)], cancellation);
    }

    /// <summary>
    /// fastai's fine_tune: the body frozen for freezeEpochs at slice(baseLr) with pct_start 0.99, then everything
    /// for epochs at slice(baseLr/2/lrMult, baseLr/2) with pctStart and div. freezeEpochs 0 skips the frozen fit.
    /// </summary>
    public static void FineTune(this Learner learn, int epochs, double baseLr, int freezeEpochs = 1, double lrMult = 100,
        double pctStart = 0.3, double div = 5.0, CancellationToken cancellation = default)
    {
        if (freezeEpochs > 0)
        {
            learn.Freeze();
            learn.FitOneCycle(freezeEpochs, LrSlice.Upto(baseLr), pctStart: 0.99, cancellation: cancellation);
        }
        double halfLr = baseLr / 2;
        learn.Unfreeze();
        learn.FitOneCycle(epochs, LrSlice.Between(halfLr / lrMult, halfLr), div, pctStart: pctStart, cancellation: cancellation);
    }

    /// <summary>
    /// The notebook's train(..., finetune=False) for a body trained from scratch: every layer trains from the first
    /// batch, in one fastai fit_one_cycle(epochs, lr) with its defaults (the same lr for every group).
    /// </summary>
    public static void UnfrozenFitOneCycle(this Learner learn, int epochs, double lr, CancellationToken cancellation = default)
    {
        learn.Unfreeze();
        learn.FitOneCycle(epochs, LrSlice.All(lr), cancellation: cancellation);
    }
}
