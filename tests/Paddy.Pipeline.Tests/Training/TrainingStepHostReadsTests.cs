using Paddy.Pipeline.Device;
using Paddy.Pipeline.Training;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

/// <summary>Host reads (device synchronisations on CUDA) made by real training passes, counted through <see cref="HostReads"/>.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainingStepHostReadsTests
{
    private sealed class PassCounter : Callback
    {
        private long start;
        public override int Order => 100;
        public List<long> Train { get; } = [];
        public List<long> Valid { get; } = [];
        public override void BeforeTrain() => start = HostReads.Count;
        public override void AfterTrain() => Train.Add(HostReads.Count - start);
        public override void BeforeValidate() => start = HostReads.Count;
        public override void AfterValidate() => Valid.Add(HostReads.Count - start);
    }

    private static PassCounter Fit(ScalarType? precision, int accumulationSamples)
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(64, 16, batchSize: 4);
        using var learner = LearnerFactory.Create(TinyClassifier.Create(3), train, valid, folder.Path, precision, accumulationSamples);
        var counter = new PassCounter();
        learner.Add(counter);
        learner.FitOneCycle(2, LrSlice.All(0.01));
        return counter;
    }

    [Fact]
    public void Float16_with_accumulation_reads_once_per_optimizer_step_and_never_per_micro_batch()
    {
        // 16 micro-batches of 4 per epoch, a step every 16 samples: 4 steps, 4 finite-checks.
        var counter = Fit(ScalarType.Float16, accumulationSamples: 16);
        Assert.Equal([4L, 4L], counter.Train);
        Assert.Equal([0L, 0L], counter.Valid);
    }

    [Fact]
    public void Float32_training_and_validation_passes_read_nothing_until_the_epoch_ends()
    {
        var counter = Fit(null, accumulationSamples: 0);
        Assert.Equal([0L, 0L], counter.Train);
        Assert.Equal([0L, 0L], counter.Valid);
    }
}
