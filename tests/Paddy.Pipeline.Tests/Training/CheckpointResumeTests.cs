using Paddy.Pipeline.Training;
using Paddy.Pipeline.Training.Callbacks;
using Paddy.Pipeline.Training.History;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class CheckpointResumeTests
{
    private const int Epochs = 3;
    private const int FreezeEpochs = 2;

    // Shuffled data, dropout, batch norm, bfloat16 and an accumulation that straddles epochs: everything a
    // resume has to replay.
    private static Learner NewLearner(string workFolder, string plan = "test plan")
    {
        var (train, valid) = TinyData.Loaders(trainCount: 20, validCount: 8, batchSize: 4);
        var model = TinyClassifier.Create(11, batchNorm: true, dropout: 0.3);
        return LearnerFactory.Create(model, train, valid, workFolder, mixedPrecision: ScalarType.BFloat16, accumulationSamples: 12, plan: plan);
    }

    private static void CancelAt(Learner learner, CancellationTokenSource source, TrainingPhase phase, int epoch, int iteration) =>
        learner.Add(new ProbeCallback
        {
            OnAfterBatch = l =>
            {
                if (l.Training && l.Phase == phase && l.Epoch == epoch && l.Iteration == iteration) source.Cancel();
            },
        });

    private static Dictionary<string, byte[]> StateBytes(Learner learner) =>
        learner.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().contiguous().bytes.ToArray());

    // Each cancellation point is (phase, epoch, iteration); the run after the last one finishes.
    // "Frozen 1 2, Unfrozen 1 3": resumes inside the frozen phase, then inside the unfrozen phase.
    // "Unfrozen 0 1": resumes from the checkpoint that closed the frozen phase, leftover gradients included.
    [Theory]
    [InlineData("Frozen 1 2, Unfrozen 1 3")]
    [InlineData("Unfrozen 0 1")]
    public void A_cancelled_and_resumed_fine_tune_ends_bitwise_equal_to_an_uninterrupted_one(string cancellations)
    {
        using var uninterruptedFolder = new TempFolder();
        using var uninterrupted = NewLearner(uninterruptedFolder.Path);
        uninterrupted.FineTune(Epochs, 0.01, FreezeEpochs);

        using var folder = new TempFolder();
        foreach (var point in cancellations.Split(", "))
        {
            var parts = point.Split(' ');
            using var interrupted = NewLearner(folder.Path);
            using var source = new CancellationTokenSource();
            CancelAt(interrupted, source, Enum.Parse<TrainingPhase>(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]));
            Assert.Throws<OperationCanceledException>(() => interrupted.FineTune(Epochs, 0.01, FreezeEpochs, cancellation: source.Token));
            Assert.True(File.Exists(interrupted.Checkpointing().FilePath));
        }
        using var resumed = NewLearner(folder.Path);
        resumed.FineTune(Epochs, 0.01, FreezeEpochs);

        var expected = StateBytes(uninterrupted);
        var actual = StateBytes(resumed);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bytes) in expected)
            Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{name} differs after resuming");
        Assert.Equal(Strip(uninterrupted.History.Epochs), Strip(resumed.History.Epochs));
        Assert.Equal(uninterrupted.History.Batches.Count, resumed.History.Batches.Count);
    }

    [Fact]
    public void A_checkpoint_of_another_plan_is_refused_with_its_path_and_delete_removes_it()
    {
        using var folder = new TempFolder();
        const string plan = "fine_tune(epochs=1, base_lr=0.01)";
        using (var learner = NewLearner(folder.Path, plan)) learner.FineTune(1, 0.01);
        using var checkpointing = new CheckpointCallback(folder.Path, plan);
        Assert.True(File.Exists(checkpointing.FilePath));

        var error = Assert.Throws<InvalidOperationException>(() => NewLearner(folder.Path, "fine_tune(epochs=2, base_lr=0.01)"));

        Assert.Contains(checkpointing.FilePath, error.Message);
        Assert.Contains("fine_tune(epochs=1", error.Message);
        checkpointing.Delete();
        Assert.False(File.Exists(checkpointing.FilePath));
    }

    [Fact]
    public void A_resume_in_the_middle_of_the_unfrozen_phase_runs_only_the_unfinished_epochs_and_ends_bitwise_equal()
    {
        using var uninterruptedFolder = new TempFolder();
        using var uninterrupted = NewLearner(uninterruptedFolder.Path);
        uninterrupted.FineTune(Epochs, 0.01, FreezeEpochs);

        using var folder = new TempFolder();
        using (var interrupted = NewLearner(folder.Path))
        using (var source = new CancellationTokenSource())
        {
            CancelAt(interrupted, source, TrainingPhase.Unfrozen, epoch: 1, iteration: 2);
            Assert.Throws<OperationCanceledException>(() => interrupted.FineTune(Epochs, 0.01, FreezeEpochs, cancellation: source.Token));
        }
        using var resumed = NewLearner(folder.Path);
        Assert.Equal("1 unfrozen epoch(s) already done", resumed.Checkpointing().Resuming);
        var trainBatches = new List<(TrainingPhase Phase, int Epoch)>();
        int validBatches = 0;
        resumed.Add(new ProbeCallback { OnAfterBatch = l => { if (l.Training) trainBatches.Add((l.Phase, l.Epoch)); else validBatches++; } });
        resumed.FineTune(Epochs, 0.01, FreezeEpochs);

        // 20 training items in batches of 4 with the last dropped: 5 batches an epoch; 8 validation items: 2 batches.
        // Only unfrozen epochs 1 and 2 ran: nothing of the two frozen epochs, nothing of unfrozen epoch 0.
        Assert.Equal(Enumerable.Repeat((TrainingPhase.Unfrozen, 1), 5).Concat(Enumerable.Repeat((TrainingPhase.Unfrozen, 2), 5)), trainBatches);
        Assert.Equal(2 * 2, validBatches);
        AssertBitwiseEqual(uninterrupted, resumed);
    }

    [Fact]
    public void A_float16_run_restores_its_loss_scale_on_resume_and_ends_bitwise_equal()
    {
        // An overflow in unfrozen epoch 0 halves the scale; the run is interrupted in epoch 1.
        Learner Float16Learner(string workFolder)
        {
            var (train, valid) = TinyData.Loaders(trainCount: 20, validCount: 8, batchSize: 4);
            var learner = LearnerFactory.Create(TinyClassifier.Create(12, batchNorm: true, dropout: 0.3), train, valid, workFolder,
                mixedPrecision: ScalarType.Float16);
            learner.Add(new ProbeCallback(order: 5)
            {
                OnAfterBackward = l =>
                {
                    if (l.Phase == TrainingPhase.Unfrozen && l.Epoch == 0 && l.Iteration == 1) l.Groups[1].Parameters[0].Parameter.grad!.fill_(float.PositiveInfinity);
                },
            });
            return learner;
        }

        using var uninterruptedFolder = new TempFolder();
        using var uninterrupted = Float16Learner(uninterruptedFolder.Path);
        var scaleAtResumePoint = new List<double>();
        uninterrupted.Add(new ProbeCallback
        {
            OnAfterLoss = l =>
            {
                if (l.Training && l.Phase == TrainingPhase.Unfrozen && l.Epoch == 1 && l.Iteration == 0)
                    scaleAtResumePoint.Add(l.Callbacks.OfType<MixedPrecision>().Single().Scaler!.Scale);
            },
        });
        uninterrupted.FineTune(Epochs, 0.01, FreezeEpochs);
        // A fresh scaler starts at 65536; the overflow (and any the run met itself) lowered it.
        Assert.True(Assert.Single(scaleAtResumePoint) <= 32768d);

        using var folder = new TempFolder();
        using (var interrupted = Float16Learner(folder.Path))
        using (var source = new CancellationTokenSource())
        {
            CancelAt(interrupted, source, TrainingPhase.Unfrozen, epoch: 1, iteration: 0);
            Assert.Throws<OperationCanceledException>(() => interrupted.FineTune(Epochs, 0.01, FreezeEpochs, cancellation: source.Token));
        }
        using var resumed = Float16Learner(folder.Path);
        var scaleAtFirstBatch = new List<double>();
        resumed.Add(new ProbeCallback
        {
            OnAfterLoss = l => { if (l.Training && scaleAtFirstBatch.Count == 0) scaleAtFirstBatch.Add(l.Callbacks.OfType<MixedPrecision>().Single().Scaler!.Scale); },
        });
        resumed.FineTune(Epochs, 0.01, FreezeEpochs);

        Assert.Equal(scaleAtResumePoint, scaleAtFirstBatch);
        AssertBitwiseEqual(uninterrupted, resumed);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("empty")]
    [InlineData("garbage")]
    public void A_corrupt_or_truncated_checkpoint_is_an_error_naming_the_file_and_saying_to_delete_it(string damage)
    {
        using var folder = new TempFolder();
        string path;
        using (var learner = NewLearner(folder.Path))
        {
            learner.FineTune(1, 0.01, freezeEpochs: 1);
            path = learner.Checkpointing().FilePath;
        }
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, damage switch
        {
            "truncated" => bytes[..(bytes.Length / 2)],
            "empty" => [],
            _ => System.Text.Encoding.UTF8.GetBytes("not a checkpoint at all"),
        });

        var error = Assert.Throws<InvalidDataException>(() => NewLearner(folder.Path));

        Assert.Contains(path, error.Message);
        Assert.Contains("corrupt or truncated", error.Message);
        Assert.Contains("Delete it to restart this task", error.Message);
    }

    private static void AssertBitwiseEqual(Learner expectedLearner, Learner actualLearner)
    {
        var expected = StateBytes(expectedLearner);
        var actual = StateBytes(actualLearner);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bytes) in expected)
            Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{name} differs after resuming");
        Assert.Equal(Strip(expectedLearner.History.Epochs), Strip(actualLearner.History.Epochs));
    }

    // Seconds differ between runs; everything else must not.
    private static List<string> Strip(IEnumerable<EpochRecord> records) =>
        records.Select(r => $"{r.Phase} {r.Epoch} {r.TrainLoss:R} {r.ValidLoss:R} {r.ErrorRate:R} {string.Join(" ", r.LearningRates)} {string.Join(" ", r.Beta1s)}").ToList();
}
