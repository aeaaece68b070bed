using Paddy.Pipeline.Training;
using Paddy.Pipeline.Training.History;

namespace Paddy.Pipeline.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class OneCycleScheduleTests
{
    // fastai's cos annealing and combined_cos, written out independently of the implementation.
    private static double FastaiCos(double s, double e, double p) => s + (1 + Math.Cos(Math.PI * (1 - p))) * (e - s) / 2;

    private static double FastaiCombined(double pct, double s, double m, double e, double p) =>
        p < pct ? FastaiCos(s, m, p / pct) : FastaiCos(m, e, (p - pct) / (1 - pct));

    private static void AssertClose(double expected, double actual, double relative = 1e-12) =>
        Assert.True(Math.Abs(expected - actual) <= relative * Math.Abs(expected), $"expected {expected:R}, got {actual:R}");

    [Fact]
    public void Fine_tune_12_at_0_01_schedules_lr_and_beta1_per_group_as_fastai()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(trainCount: 20, validCount: 4, batchSize: 4);
        using var learner = LearnerFactory.Create(TinyClassifier.Create(1), train, valid, folder.Path);

        learner.FineTune(12, 0.01);

        var frozen = learner.History.Batches.Where(b => b.Phase == TrainingPhase.Frozen).ToList();
        var unfrozen = learner.History.Batches.Where(b => b.Phase == TrainingPhase.Unfrozen).ToList();
        Assert.Equal(5, frozen.Count);
        Assert.Equal(60, unfrozen.Count);

        // Hand-computed points. Frozen start: lr_max/25 for body 1e-3 and head 1e-2.
        AssertClose(4e-5, frozen[0].LearningRates[0]);
        AssertClose(4e-4, frozen[0].LearningRates[1]);
        AssertClose(0.95, frozen[0].Beta1s[0]);
        // Unfrozen start: lr_max/5 for body 5e-5 and head 5e-3.
        AssertClose(1e-5, unfrozen[0].LearningRates[0]);
        AssertClose(1e-3, unfrozen[0].LearningRates[1]);
        // Batch 9 of 60 is position 0.15, half-way up: the mean of start and peak.
        AssertClose(3e-5, unfrozen[9].LearningRates[0], 1e-9);
        AssertClose(3e-3, unfrozen[9].LearningRates[1], 1e-9);
        AssertClose(0.90, unfrozen[9].Beta1s[1], 1e-9);
        // Batch 18 of 60 is position 0.3 = pct_start: the peak, and beta1 at its low.
        AssertClose(5e-5, unfrozen[18].LearningRates[0], 1e-9);
        AssertClose(5e-3, unfrozen[18].LearningRates[1], 1e-9);
        AssertClose(0.85, unfrozen[18].Beta1s[0], 1e-9);

        // Every batch against fastai's formula, per group.
        foreach (var (record, i) in frozen.Select((r, i) => (r, i)))
        {
            double p = i / 5.0;
            AssertClose(FastaiCombined(0.99, 1e-3 / 25, 1e-3, 1e-3 / 1e5, p), record.LearningRates[0]);
            AssertClose(FastaiCombined(0.99, 1e-2 / 25, 1e-2, 1e-2 / 1e5, p), record.LearningRates[1]);
            AssertClose(FastaiCombined(0.99, 0.95, 0.85, 0.95, p), record.Beta1s[0]);
            Assert.Equal(record.Beta1s[0], record.Beta1s[1]);
        }
        foreach (var (record, i) in unfrozen.Select((r, i) => (r, i)))
        {
            Assert.Equal((i / 5, i % 5), (record.Epoch, record.Iteration));
            double p = i / 60.0;
            AssertClose(FastaiCombined(0.3, 5e-5 / 5, 5e-5, 5e-5 / 1e5, p), record.LearningRates[0]);
            AssertClose(FastaiCombined(0.3, 5e-3 / 5, 5e-3, 5e-3 / 1e5, p), record.LearningRates[1]);
            AssertClose(FastaiCombined(0.3, 0.95, 0.85, 0.95, p), record.Beta1s[1]);
        }
    }

    [Fact]
    public void Fit_one_cycle_from_scratch_follows_fastais_defaults_with_one_lr_for_every_group()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(trainCount: 20, validCount: 4, batchSize: 4);
        using var learner = LearnerFactory.Create(TinyClassifier.Create(2), train, valid, folder.Path);

        learner.UnfrozenFitOneCycle(8, 0.01);

        var batches = learner.History.Batches;
        Assert.Equal(40, batches.Count);
        Assert.All(batches, b => Assert.Equal(TrainingPhase.Unfrozen, b.Phase));
        Assert.All(batches, b => Assert.Equal(b.LearningRates[0], b.LearningRates[1]));
        // fit_one_cycle(8, 0.01): div 25, pct_start 0.25, div_final 1e5, moms (0.95, 0.85, 0.95); position = batch / 40.
        // Batch 0: lr_max/25, beta1 0.95. Batch 5 (position 0.125, half-way up): mean of 4e-4 and 0.01, beta1 0.90.
        // Batch 10 (position 0.25): the peak 0.01, beta1 0.85. Batch 25 (half-way down): mean of 0.01 and 1e-7, 0.90.
        // Batch 39 (position 0.975, 29/30 of the way down): 0.01 + (1 + cos(pi/30)) * (1e-7 - 0.01) / 2 and
        // 0.85 + (1 + cos(pi/30)) * 0.1 / 2.
        AssertClose(4e-4, batches[0].LearningRates[0]);
        AssertClose(0.95, batches[0].Beta1s[0]);
        AssertClose(5.2e-3, batches[5].LearningRates[1], 1e-9);
        AssertClose(0.90, batches[5].Beta1s[1], 1e-9);
        AssertClose(0.01, batches[10].LearningRates[0], 1e-9);
        AssertClose(0.85, batches[10].Beta1s[0], 1e-9);
        AssertClose(5.00005e-3, batches[25].LearningRates[0], 1e-9);
        AssertClose(0.90, batches[25].Beta1s[0], 1e-9);
        AssertClose(2.749024925e-5, batches[39].LearningRates[1], 1e-9);
        AssertClose(0.9497260948, batches[39].Beta1s[1], 1e-9);
        foreach (var (record, i) in batches.Select((r, i) => (r, i)))
        {
            AssertClose(FastaiCombined(0.25, 0.01 / 25, 0.01, 0.01 / 1e5, i / 40.0), record.LearningRates[0]);
            AssertClose(FastaiCombined(0.25, 0.95, 0.85, 0.95, i / 40.0), record.Beta1s[0]);
        }
    }

    [Fact]
    public void Fit_one_cycle_from_scratch_unfreezes_and_trains_every_group_from_the_first_batch()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(trainCount: 8, validCount: 4, batchSize: 4);
        using var learner = LearnerFactory.Create(TinyClassifier.Create(3), train, valid, folder.Path);
        learner.Freeze();
        var all = learner.Groups.SelectMany(g => g.Parameters).ToList();
        var before = all.Select(p => p.Parameter.detach().clone()).ToList();
        var movedAfterFirstStep = new List<string>();
        learner.Add(new ProbeCallback
        {
            OnAfterStep = l =>
            {
                if (l.TrainIteration != 0) return;
                movedAfterFirstStep.AddRange(all.Zip(before)
                    .Where(pair => !pair.First.Parameter.detach().allclose(pair.Second, rtol: 0, atol: 0))
                    .Select(pair => pair.First.Name));
            },
        });

        learner.UnfrozenFitOneCycle(1, 0.01);

        Assert.Equal(TrainingPhase.Unfrozen, learner.Phase);
        Assert.All(all, p => Assert.True(p.Parameter.requires_grad, $"{p.Name} is frozen"));
        // Every parameter, the body's linear weight and bias included (which fine_tune's frozen epoch keeps fixed).
        Assert.Equal(all.Select(p => p.Name).Order(), movedAfterFirstStep.Order());
    }

    [Fact]
    public void Fine_tune_with_no_freeze_epochs_trains_only_the_unfrozen_fit()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(trainCount: 8, validCount: 4, batchSize: 4);
        using var learner = LearnerFactory.Create(TinyClassifier.Create(4), train, valid, folder.Path);

        learner.FineTune(2, 0.01, freezeEpochs: 0);

        Assert.Equal([TrainingPhase.Unfrozen], learner.History.Epochs.Select(e => e.Phase).Distinct());
        Assert.Equal(2, learner.History.Epochs.Count);
        // slice(5e-5, 5e-3) with div 5 at the first batch.
        AssertClose(1e-5, learner.History.Batches[0].LearningRates[0]);
        AssertClose(1e-3, learner.History.Batches[0].LearningRates[1]);
    }

    [Fact]
    public void Lr_slices_spread_over_groups_as_fastai_set_hyper()
    {
        Assert.Equal([1e-3, 1e-2], LrSlice.Upto(1e-2).ForGroups(2));
        Assert.Equal([1e-3, 1e-3, 1e-2], LrSlice.Upto(1e-2).ForGroups(3));
        Assert.Equal([5e-5, 5e-3], LrSlice.Between(5e-5, 5e-3).ForGroups(2), new ToleranceComparer(1e-15));
        Assert.Equal([1e-4, 1e-3, 1e-2], LrSlice.Between(1e-4, 1e-2).ForGroups(3), new ToleranceComparer(1e-15));
        Assert.Equal([0.1, 0.1], LrSlice.All(0.1).ForGroups(2));
    }

    [Fact]
    public void Combined_cos_starts_peaks_and_ends_at_the_given_values()
    {
        Assert.Equal(0.001, OneCycleSchedule.CombinedCos(0.25, 0.001, 0.01, 1e-7, 0), 15);
        Assert.Equal(0.01, OneCycleSchedule.CombinedCos(0.25, 0.001, 0.01, 1e-7, 0.25), 15);
        Assert.Equal(1e-7, OneCycleSchedule.CombinedCos(0.25, 0.001, 0.01, 1e-7, 1), 15);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance * Math.Max(Math.Abs(x), Math.Abs(y));
        public int GetHashCode(double obj) => 0;
    }
}
