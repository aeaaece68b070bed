using System.Buffers.Binary;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Jobs;
using Paddy.Pipeline.Reporting;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Reporting;

public sealed class RunReportTests : IDisposable
{
    private static readonly CombinationConfig Combination = new("convnext_atto", "none",
        new ItemResize(new ImageSize(64, 64), ResizeMethod.Squish), new ImageSize(64, 64), 1,
        new TrainingSettings(2, 1, 0.01, 64, 4, Precision.Bf16, new TtaSettings(0, 0.25)));

    private static readonly PipelineConfig Pipeline = new("demo", "/p/pipeline.yaml", 42, new DataSettings("/data", 0.2, false), [Combination]);

    private const string History =
        "phase,epoch,train_loss,valid_loss,error_rate,seconds,lr_body,beta1_body,lr_head,beta1_head\n" +
        "frozen,0,2.5,1.9,0.8,3.5,0.001,0.85,0.01,0.85\n" +
        "unfrozen,0,1.7,1.4,0.6,4.25,0.0001,0.9,0.001,0.9\n";

    private readonly TestDirectory directory = new();
    private readonly ArtifactStore store;

    public RunReportTests()
    {
        store = new ArtifactStore(Path.Combine(directory.Path, "demo"));
        var inputs = FingerprintInputs.For(Pipeline, Combination, "data", "weights", "code");
        store.Commit(Combination.Slug, folder =>
        {
            // Five images of three classes: argmax predicts 0, 1, 1, 2, 2 for true classes 0, 0, 1, 1, 1.
            using var probabilities = tensor(new float[]
            {
                0.8f, 0.1f, 0.1f,
                0.2f, 0.7f, 0.1f,
                0.1f, 0.8f, 0.1f,
                0.1f, 0.2f, 0.7f,
                0.3f, 0.3f, 0.4f,
            }).reshape(5, 3);
            using var targets = tensor(new long[] { 0, 0, 1, 1, 1 });
            using var items = tensor(new long[] { 3, 8, 11, 20, 31 });
            SafeTensors.Save(Path.Combine(folder, ArtifactFiles.ValidPredictions),
            [
                new(ArtifactFiles.ProbabilitiesKey, probabilities), new(ArtifactFiles.TargetsKey, targets), new(ArtifactFiles.ItemsKey, items),
            ]);
            File.WriteAllText(Path.Combine(folder, ArtifactFiles.History), History);
            return new ArtifactManifest
            {
                Task = Combination.TaskName, Fingerprint = Fingerprint.Of(inputs), FingerprintInputs = inputs.ToJson(),
                Vocab = ["shirt", "trouser", "bag"], ValidError = 0.6, ValidLoss = 1.4, ValidCount = 5, TestIds = ["1"],
                Device = "cpu", Precision = "bf16", TrainSeconds = 7.75, PeakMemoryBytes = 300L * 1024 * 1024,
            };
        });
    }

    public void Dispose() => directory.Dispose();

    private ReportedModel Model => new(Combination.TaskName, Combination.Slug, 2, ArtifactManifest.Read(
        Path.Combine(store.PathOf(Combination.Slug), ArtifactManifest.FileName)));

    private string ReportFolder => Path.Combine(store.PipelineDirectory, "report");

    /// <summary>A two-class confusion matrix with <paramref name="errors"/> of <paramref name="count"/> images wrong.</summary>
    private static ConfusionMatrix Matrix(int errors, int count) => ConfusionMatrix.FromLabels(
        Enumerable.Range(0, count).Select(i => i % 2).ToList(),
        Enumerable.Range(0, count).Select(i => i < errors ? 1 - i % 2 : i % 2).ToList(), classes: 3);

    /// <summary>The member errs on 30 of the common images, the weighted ensemble on 24, the equal-weights one on 36.</summary>
    private static EnsembleResult Ensemble(int common) => new(
        [new MemberResult(Combination.TaskName, 2, 0.6, 5, common == 0 ? null : Matrix(30 * common / 120, common))], common,
        common == 0 ? null : Matrix(24 * common / 120, common), common == 0 ? null : Matrix(36 * common / 120, common), "/p/submission.csv", 10);

    [Fact]
    public void The_confusion_matrix_of_the_artifact_sums_to_its_validation_count_and_its_diagonal_to_one_minus_its_error()
    {
        using var predictions = SafeTensors.Load(Path.Combine(store.PathOf(Combination.Slug), ArtifactFiles.ValidPredictions));
        var matrix = ConfusionMatrix.From(predictions[ArtifactFiles.ProbabilitiesKey], predictions[ArtifactFiles.TargetsKey], 3);
        Assert.Equal(Model.Manifest.ValidCount, matrix.Total);
        Assert.Equal(1 - Model.Manifest.ValidError, (double)matrix.Correct / matrix.Total, 12);
    }

    [Fact]
    public void Writes_the_models_figures_confusion_table_and_per_class_error_by_hand()
    {
        RunReport.Write(store, "demo", [Model], Ensemble(0));
        var markdown = File.ReadAllText(Path.Combine(ReportFolder, "report.md"));
        Assert.Contains("| precision | bf16 |", markdown);
        Assert.Contains("| batch size / accumulation | 64 / 4 |", markdown);
        Assert.Contains("| train time | 00:00:07 |", markdown);
        Assert.Contains("| peak memory | 300 MiB |", markdown);
        Assert.Contains("| unfrozen | 0 | 1.7000 | 1.4000 | 0.6000 | 4.2 |", markdown);
        Assert.Contains("| actual \\ predicted | shirt | trouser | bag |", markdown);
        Assert.Contains("| shirt | 1 | 1 | 0 |", markdown);
        Assert.Contains("| trouser | 0 | 1 | 2 |", markdown);
        Assert.Contains("| bag | 0 | 0 | 0 |", markdown);
        // Per-class error: shirt 1 of 2 wrong, trouser 2 of 3 wrong, no bag in the split.
        Assert.Contains("| shirt | 2 | 50.00 % |", markdown);
        Assert.Contains("| trouser | 3 | 66.67 % |", markdown);
        Assert.Contains("| bag | 0 | - |", markdown);
        Assert.Contains("learning rate per epoch", markdown);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(99)]
    public void Below_the_threshold_of_common_images_shows_no_ensemble_figure(int common)
    {
        RunReport.Write(store, "demo", [Model], Ensemble(common));
        var markdown = File.ReadAllText(Path.Combine(ReportFolder, "report.md"));
        Assert.Contains($"data.split is per_model (the notebook's): each model validated on its own random split, and {common} image(s) were held out by every model.", markdown);
        Assert.Contains("No ensemble figure: with fewer than 100 common images", markdown);
        Assert.DoesNotContain("ensemble, configured weights", markdown);
        Assert.False(File.Exists(Path.Combine(ReportFolder, "ensemble.png")));
    }

    [Fact]
    public void Compares_each_model_the_configured_and_the_equal_weights_with_wilson_intervals()
    {
        RunReport.Write(store, "demo", [Model], Ensemble(120));
        var markdown = File.ReadAllText(Path.Combine(ReportFolder, "report.md"));
        // Wilson 95%: 30/120 -> [18.11%, 33.44%], 24/120 -> [13.82%, 28.04%], 36/120 -> [22.53%, 38.72%];
        // the model's own split, 3 of 5 -> [23.07%, 88.24%].
        Assert.Contains("| Train:convnext_atto:squish-64x64:64x64 | 25.00 % (95% CI 18.11 %-33.44 %, 120 images) |", markdown);
        Assert.Contains("| ensemble, configured weights | 20.00 % (95% CI 13.82 %-28.04 %, 120 images) |", markdown);
        Assert.Contains("| ensemble, equal weights | 30.00 % (95% CI 22.53 %-38.72 %, 120 images) |", markdown);
        Assert.Contains("| Train:convnext_atto:squish-64x64:64x64 | 2 | 60.00 % (95% CI 23.07 %-88.24 %, 5 images) | 5 |", markdown);
        // Per class: the first 24 (resp. 30, 36) images are wrong, half of them of each class, of 60 per class.
        Assert.Contains("| shirt | 60 | 25.00 % | 20.00 % | 30.00 % |", markdown);
        Assert.Contains("| bag | 0 | - | - | - |", markdown);
        Assert.True(File.Exists(Path.Combine(ReportFolder, "ensemble.png")));
    }

    [Fact]
    public void Every_image_the_report_links_is_a_valid_png_beside_it()
    {
        var index = RunReport.Write(store, "demo", [Model], Ensemble(120));
        var html = File.ReadAllText(index);
        var linked = System.Text.RegularExpressions.Regex.Matches(html, "<img src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(
        [
            "ensemble.png", $"{Combination.Slug}-loss.png", $"{Combination.Slug}-error.png", $"{Combination.Slug}-lr.png",
            $"{Combination.Slug}-beta1.png", $"{Combination.Slug}-confusion.png",
        ], linked);
        foreach (var file in linked)
        {
            var bytes = File.ReadAllBytes(Path.Combine(ReportFolder, file));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
            Assert.True(BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)) > 0 && BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)) > 0, file);
        }
    }
}
