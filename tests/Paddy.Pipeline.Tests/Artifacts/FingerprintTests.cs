using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;

namespace Paddy.Pipeline.Tests.Artifacts;

public sealed class FingerprintTests
{
    private static readonly CombinationConfig Combination = new("convnext_atto", "none",
        new ItemResize(new ImageSize(64, 48), ResizeMethod.Crop), new ImageSize(32, 24), 1,
        new TrainingSettings(3, 1, 0.01, 64, 4, Precision.Bf16, new TtaSettings(4, 0.25)));

    private static readonly PipelineConfig Pipeline = new("demo", "/p/pipeline.yaml", 42,
        new DataSettings("/data", 0.2, false), [Combination]);

    private static string Of(PipelineConfig pipeline, CombinationConfig combination, string data = "d1", string weights = "w1", string code = "c1") =>
        Fingerprint.Of(FingerprintInputs.For(pipeline, combination, data, weights, code));

    [Fact]
    public void Is_the_sha256_of_the_canonical_inputs_and_stable()
    {
        var fingerprint = Of(Pipeline, Combination);
        Assert.Equal(64, fingerprint.Length);
        Assert.Equal(fingerprint, Of(Pipeline with { }, Combination with { }));
        var json = FingerprintInputs.For(Pipeline, Combination, "d1", "w1", "c1").ToJson().ToJsonString();
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json))), fingerprint);
    }

    public static TheoryData<string, PipelineConfig, CombinationConfig, string, string, string> Changes() => new()
    {
        { "epochs", Pipeline, Combination with { Training = Combination.Training with { Epochs = 4 } }, "d1", "w1", "c1" },
        { "lr", Pipeline, Combination with { Training = Combination.Training with { Lr = 0.02 } }, "d1", "w1", "c1" },
        { "accum", Pipeline, Combination with { Training = Combination.Training with { Accum = 2 } }, "d1", "w1", "c1" },
        { "method", Pipeline, Combination with { Training = Combination.Training with { Method = TrainingMethod.FitOneCycle } }, "d1", "w1", "c1" },
        { "freeze_epochs", Pipeline, Combination with { Training = Combination.Training with { FreezeEpochs = 2 } }, "d1", "w1", "c1" },
        { "precision", Pipeline, Combination with { Training = Combination.Training with { Precision = Precision.Fp32 } }, "d1", "w1", "c1" },
        { "tta", Pipeline, Combination with { Training = Combination.Training with { Tta = new TtaSettings(2, 0.25) } }, "d1", "w1", "c1" },
        { "resize", Pipeline, Combination with { Resize = new ItemResize(new ImageSize(64, 48), ResizeMethod.Squish) }, "d1", "w1", "c1" },
        { "size", Pipeline, Combination with { Size = new ImageSize(24, 32) }, "d1", "w1", "c1" },
        { "weights id", Pipeline, Combination with { Weights = "local.safetensors" }, "d1", "w1", "c1" },
        { "seed", Pipeline with { Seed = 43 }, Combination, "d1", "w1", "c1" },
        { "valid_pct", Pipeline with { Data = Pipeline.Data with { ValidPct = 0.3 } }, Combination, "d1", "w1", "c1" },
        { "split", Pipeline with { Data = Pipeline.Data with { Split = DataSplit.Shared } }, Combination, "d1", "w1", "c1" },
        { "data", Pipeline, Combination, "d2", "w1", "c1" },
        { "weights file", Pipeline, Combination, "d1", "w2", "c1" },
        { "code", Pipeline, Combination, "d1", "w1", "c2" },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Changes_with_every_input_that_changes_the_trained_model(string what, PipelineConfig pipeline,
        CombinationConfig combination, string data, string weights, string code)
    {
        Assert.True(Of(Pipeline, Combination) != Of(pipeline, combination, data, weights, code),
            $"changing the {what} left the fingerprint as it was");
    }

    [Fact]
    public void Fit_one_cycle_ignores_freeze_epochs_which_only_fine_tune_uses()
    {
        var oneCycle = Combination with { Training = Combination.Training with { Method = TrainingMethod.FitOneCycle } };
        Assert.Equal(Of(Pipeline, oneCycle), Of(Pipeline, oneCycle with { Training = oneCycle.Training with { FreezeEpochs = 3 } }));
        Assert.Equal("fit_one_cycle", FingerprintInputs.Describe(oneCycle)["training"]!["method"]!.GetValue<string>());
    }

    [Fact]
    public void Does_not_change_with_what_only_the_ensemble_or_the_files_location_uses()
    {
        var reference = Of(Pipeline, Combination);
        Assert.Equal(reference, Of(Pipeline, Combination with { EnsembleWeight = 2 }));
        Assert.Equal(reference, Of(Pipeline with { Name = "renamed", SourcePath = "/elsewhere/p.yaml" }, Combination));
        Assert.Equal(reference, Of(Pipeline with { Data = Pipeline.Data with { Root = "/moved" } }, Combination));
    }

    [Fact]
    public void Data_manifest_hash_follows_the_dataset_files_not_a_solution_beside_them_and_the_cache_spares_rereading()
    {
        using var directory = new TestDirectory();
        var root = Path.Combine(directory.Path, "data");
        directory.File("data/train_images/a/1.png", "one");
        directory.File("data/train.csv", "image_id,label\n1.png,a\n");
        directory.File("data/solution.csv", "image_id,label\n");
        var cachePath = Path.Combine(directory.Path, "hashes.json");

        var cache = FileHashCache.Open(cachePath);
        var first = DataManifest.Build(root, cache, ImageDataset.IsDatasetFile);
        cache.Save();
        Assert.Equal(["train.csv", "train_images/a/1.png"], first.Files.Select(f => f.Path));
        Assert.Equal(2, cache.HashedCount);

        var reopened = FileHashCache.Open(cachePath);
        Assert.Equal(first, DataManifest.Build(root, reopened, ImageDataset.IsDatasetFile) with { Files = first.Files });
        Assert.Equal(0, reopened.HashedCount);

        directory.File("data/train_images/a/1.png", "uno");
        File.SetLastWriteTimeUtc(Path.Combine(root, "train_images/a/1.png"), DateTime.UtcNow.AddMinutes(1));
        var changed = DataManifest.Build(root, reopened, ImageDataset.IsDatasetFile);
        Assert.NotEqual(first.Sha256, changed.Sha256);
        Assert.Equal(1, reopened.HashedCount);

        File.Move(Path.Combine(root, "train_images/a/1.png"), Path.Combine(root, "train_images/a/2.png"));
        Assert.NotEqual(changed.Sha256, DataManifest.Build(root, reopened, ImageDataset.IsDatasetFile).Sha256);
    }
}
