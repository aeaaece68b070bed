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

    // Seconds differ between runs; everything else must not.
    private static List<string> Strip(IEnumerable<EpochRecord> records) =>
        records.Select(r => $"{r.Phase} {r.Epoch} {r.TrainLoss:R} {r.ValidLoss:R} {r.ErrorRate:R} {string.Join(" ", r.LearningRates)} {string.Join(" ", r.Beta1s)}").ToList();
}
