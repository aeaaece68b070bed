using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using Paddy.Pipeline.Training;
using static TorchSharp.torch;
using ImageFolder = Paddy.Pipeline.Tests.Data.TempFolder;

namespace Paddy.Pipeline.Tests.Training;

/// <summary>fastai draws a fresh shuffle and augmentation in every epoch of every fit and in every TTA pass.</summary>
[Collection(TrainingCollection.Name)]
public sealed class FreshDrawsTests
{
    /// <summary>Passes batches through and records which epoch the learner asked for.</summary>
    private sealed class RecordingLoader(IBatchLoader inner) : IBatchLoader
    {
        public List<int> Epochs { get; } = [];
        public int ItemCount => inner.ItemCount;
        public int BatchSize => inner.BatchSize;
        public int BatchesPerEpoch => inner.BatchesPerEpoch;

        public IEnumerable<Batch> Epoch(int epoch)
        {
            Epochs.Add(epoch);
            return inner.Epoch(epoch);
        }
    }

    [Fact]
    public void The_unfrozen_fit_asks_the_loader_for_other_epochs_than_the_frozen_fit_did()
    {
        using var folder = new TempFolder();
        var (train, valid) = TinyData.Loaders(trainCount: 8, validCount: 4, batchSize: 4);
        var recording = new RecordingLoader(train);
        using var learner = LearnerFactory.Create(TinyClassifier.Create(1), recording, valid, folder.Path);

        learner.FineTune(2, 0.01, freezeEpochs: 1);

        // One frozen epoch, then two unfrozen ones: three distinct draws, not 0, 0, 1.
        Assert.Equal([0, 1, 2], recording.Epochs);
        var phases = learner.History.Batches.Select(b => (b.Phase, b.Epoch)).Distinct().ToList();
        Assert.Equal([(TrainingPhase.Frozen, 0), (TrainingPhase.Unfrozen, 0), (TrainingPhase.Unfrozen, 1)], phases);
    }

    [Fact]
    public void A_tta_pass_draws_other_augmentations_than_the_training_epoch_of_the_same_number()
    {
        using var images = new ImageFolder();
        // One item in batches of one: the training epoch and the TTA pass hold the same image at the same position,
        // so only the random stream can tell them apart.
        List<LabelledImage> items = [new(Path.GetFileName(images.WriteJpeg("0.jpg", 32, 40, seed: 3)), 0)];
        var settings = new LoaderSettings(new ItemResize(new ImageSize(24, 16), ResizeMethod.Squish),
            new BatchAugmentation(new ImageSize(16, 16), Normalization.ImageNet), 1, 11, CPU);
        var cache = new ItemCache();
        var decoder = new ImageDecoder();
        var train = new ImageLoader(images.Root, items, LoaderKind.Train, settings, cache, decoder);
        var tta = new ImageLoader(images.Root, items, LoaderKind.TestWithTrainTransforms, settings, cache, decoder);

        for (int epoch = 0; epoch < 4; epoch++)
        {
            var trained = Pixels(train, epoch);
            var augmented = Pixels(tta, epoch);
            Assert.False(trained.SequenceEqual(augmented), $"TTA pass {epoch} replays training epoch {epoch}");
            Assert.True(augmented.SequenceEqual(Pixels(tta, epoch)), $"TTA pass {epoch} is not reproducible");
        }
    }

    private static float[] Pixels(IBatchLoader loader, int epoch)
    {
        using var batch = loader.Epoch(epoch).Single();
        return batch.Images.data<float>().ToArray();
    }
}
