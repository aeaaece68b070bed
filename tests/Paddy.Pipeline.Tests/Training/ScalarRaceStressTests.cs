using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using Paddy.Pipeline.Training;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

/// <summary>
/// TorchSharp 0.107 frees an implicitly converted Scalar in its finaliser, which can run while libtorch still reads it
/// (TorchSharp PR #1496). The hot paths hold their Scalars; here garbage collections are forced on another thread
/// throughout hundreds of real training steps and augmented batches, which must all succeed.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class ScalarRaceStressTests
{
    [Fact]
    public void Training_and_augmentation_survive_garbage_collections_forced_throughout()
    {
        using var stop = new CancellationTokenSource();
        long collections = 0;
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
            }
        }) { IsBackground = true };
        collector.Start();
        try
        {
            using var folder = new TempFolder();
            var (train, valid) = TinyData.Loaders(128, 16, batchSize: 4);
            using var learner = LearnerFactory.Create(TinyClassifier.Create(5, batchNorm: true, dropout: 0.1), train, valid,
                folder.Path, ScalarType.Float16, accumulationSamples: 8);
            learner.FitOneCycle(10, LrSlice.All(0.01));
            Assert.Equal(10, learner.History.Epochs.Count);
            Assert.All(learner.History.Epochs, e => Assert.True(double.IsFinite(e.TrainLoss)));

            var augmentation = new BatchAugmentation(new ImageSize(12, 10), Normalization.ImageNet);
            var random = new Random(9);
            using var images = randint(0, 256, [4, 3, 20, 16], dtype: ScalarType.Byte);
            for (int i = 0; i < 200; i++)
            {
                using var x = augmentation.Train(images, random);
                Assert.Equal([4L, 3, 12, 10], x.shape);
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
        Assert.True(Interlocked.Read(ref collections) > 10, "the collector thread hardly ran");
    }
}
