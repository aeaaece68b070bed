using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Tests.Build;

/// <summary>One real Submit on the sample data, shared by the tests that read or rerun it.</summary>
public sealed class TrainedPipeline : IDisposable
{
    public TrainedPipeline()
    {
        File.WriteAllText(PipelinePath, BuildProgram.TinyPipeline("e2e"));
        (ExitCode, Output) = BuildProgram.Run(Directory.Path, "--target=Submit", $"--pipeline={PipelinePath}");
    }

    public TestDirectory Directory { get; } = new();
    public string PipelinePath => Path.Combine(Directory.Path, "pipeline.yaml");
    public string Artifacts => Path.Combine(Directory.Path, "artifacts", "e2e");
    public int ExitCode { get; }
    public string Output { get; }

    public void Dispose() => Directory.Dispose();
}

[Collection(nameof(EndToEndCollection))]
public sealed class SubmitEndToEndTests(TrainedPipeline trained) : IClassFixture<TrainedPipeline>
{
    [Fact]
    public void Submit_trains_every_model_and_writes_one_row_per_sample_submission_row_in_its_order()
    {
        Assert.True(trained.ExitCode == 0, trained.Output);
        var expectedIds = File.ReadLines(Path.Combine(BuildProgram.SampleData, "sample_submission.csv")).Skip(1)
            .Select(line => line.Split(',')[0]).ToList();
        var rows = File.ReadLines(Path.Combine(trained.Artifacts, "submission.csv")).ToList();
        Assert.Equal("image_id,label", rows[0]);
        Assert.Equal(expectedIds, rows.Skip(1).Select(r => r.Split(',')[0]));
        var vocab = System.IO.Directory.GetDirectories(Path.Combine(BuildProgram.SampleData, "train_images")).Select(Path.GetFileName).ToHashSet();
        Assert.All(rows.Skip(1), r => Assert.Contains(r.Split(',')[1], vocab));
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: valid error", trained.Output);
        Assert.Contains($"{BuildProgram.VitTask}: valid error", trained.Output);
        Assert.Contains("ensemble", trained.Output);
        // The demo data's solution.csv sits beside sample_submission.csv, so Submit scores the submission.
        Assert.Matches(@"Test accuracy: \d+\.\d\d % on 300 test images with known labels", trained.Output);
    }

    [Fact]
    public void Each_artifact_holds_its_probabilities_predictions_history_and_a_verifying_manifest()
    {
        var store = new ArtifactStore(trained.Artifacts);
        foreach (var slug in new[] { "convnext_atto_squish-32x32_32x32", "vit_tiny_patch16_224_squish-32x32_32x32" })
        {
            var manifest = ArtifactManifest.Read(Path.Combine(store.PathOf(slug), ArtifactManifest.FileName));
            Assert.Equal("up to date", store.Check(slug, manifest.Fingerprint).Reason);
            Assert.Equal([ArtifactFiles.History, ArtifactFiles.Schedule, ArtifactFiles.TestProbabilities, ArtifactFiles.Log, ArtifactFiles.ValidPredictions],
                manifest.Files.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(300, manifest.TestIds.Count);
            Assert.Equal(800, manifest.ValidCount);
            Assert.NotNull(manifest.PeakMemoryBytes);
            Assert.Empty(System.IO.Directory.EnumerateFileSystemEntries(store.WorkPathOf(slug)));
        }
    }

    [Fact]
    public void The_report_shows_every_model_with_figures_that_match_its_artifact()
    {
        var report = Path.Combine(trained.Artifacts, "report");
        var html = File.ReadAllText(Path.Combine(report, "index.html"));
        var markdown = File.ReadAllText(Path.Combine(report, "report.md"));
        foreach (var slug in new[] { BuildProgram.ConvNeXtSlug, BuildProgram.VitSlug })
        {
            var artifact = Path.Combine(trained.Artifacts, "models", slug);
            var manifest = ArtifactManifest.Read(Path.Combine(artifact, ArtifactManifest.FileName));
            using var predictions = Paddy.Pipeline.IO.SafeTensors.Load(Path.Combine(artifact, ArtifactFiles.ValidPredictions));
            var matrix = Paddy.Pipeline.Reporting.ConfusionMatrix.From(predictions[ArtifactFiles.ProbabilitiesKey],
                predictions[ArtifactFiles.TargetsKey], manifest.Vocab.Count);
            Assert.Equal(manifest.ValidCount, matrix.Total);
            Assert.Equal(manifest.ValidError, matrix.ErrorRate, 9);
            Assert.Contains($"| validation error | {manifest.ValidError.ToString("P2", System.Globalization.CultureInfo.InvariantCulture)} |", markdown);
            foreach (var chart in new[] { "loss", "error", "lr", "beta1", "confusion" })
            {
                var png = File.ReadAllBytes(Path.Combine(report, $"{slug}-{chart}.png"));
                Assert.True(png.Length > 5_000, $"{slug}-{chart}.png is only {png.Length} bytes");
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
                Assert.Contains($"src=\"{slug}-{chart}.png\"", html);
            }
        }
        Assert.Contains("data.split is shared: every model held out the same 800 images", markdown);
        Assert.Contains("## Test score", markdown);
        Assert.Matches(@"\| submission.csv \| \d+\.\d\d % \| [^|]+, 300 images\) \|", markdown);
        Assert.Matches(@"\| ensemble, configured weights \| \d+\.\d\d % \(95% CI [^|]+, 800 images\) \|", markdown);
        Assert.Matches(@"\| ensemble, equal weights \| \d+\.\d\d % \(95% CI [^|]+, 800 images\) \|", markdown);
    }

    [Fact]
    public void A_second_Submit_trains_nothing()
    {
        var before = System.IO.Directory.GetFiles(trained.Artifacts, ArtifactManifest.FileName, SearchOption.AllDirectories)
            .ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var (exitCode, output) = BuildProgram.Run(trained.Directory.Path, "--target=Submit", $"--pipeline={trained.PipelinePath}");
        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("training.", output);
        Assert.Matches($@"{System.Text.RegularExpressions.Regex.Escape(BuildProgram.ConvNeXtTask)}\s+\S+\s+Skipped", output);
        Assert.Matches($@"{System.Text.RegularExpressions.Regex.Escape(BuildProgram.VitTask)}\s+\S+\s+Skipped", output);
        Assert.All(before, f => Assert.Equal(f.Value, File.GetLastWriteTimeUtc(f.Key)));
    }

    [Fact]
    public void Status_after_Submit_finds_everything_up_to_date_and_then_names_a_changed_ensemble_weight()
    {
        var (exitCode, output) = BuildProgram.Run(trained.Directory.Path, "--target=Status", $"--pipeline={trained.PipelinePath}");
        Assert.True(exitCode == 0, output);
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: up to date", output);
        Assert.Contains($"{BuildProgram.VitTask}: up to date", output);
        Assert.Contains("Ensemble: up to date", output);

        var reweighted = Path.Combine(trained.Directory.Path, "reweighted.yaml");
        File.WriteAllText(reweighted, BuildProgram.TinyPipeline("e2e").Replace("ensemble_weight: 2", "ensemble_weight: 3", StringComparison.Ordinal));
        (exitCode, output) = BuildProgram.Run(trained.Directory.Path, "--target=Status", $"--pipeline={reweighted}");
        Assert.True(exitCode == 0, output);
        Assert.Contains($"{BuildProgram.VitTask}: up to date", output);
        Assert.Contains("Ensemble: stale", output);
        Assert.Contains($"{BuildProgram.VitTask}: ensemble_weight 2 -> 3", output);
    }

    [Fact]
    public void Tree_shows_the_graph_and_an_unknown_target_lists_the_targets()
    {
        var (treeExit, tree) = BuildProgram.Run(trained.Directory.Path, "--target=Submit", "--tree", $"--pipeline={trained.PipelinePath}");
        Assert.True(treeExit == 0, tree);
        Assert.True(tree.IndexOf("Submit", StringComparison.Ordinal) < tree.IndexOf("Ensemble", StringComparison.Ordinal), tree);
        Assert.Contains(BuildProgram.ConvNeXtTask, tree);
        Assert.Contains(BuildProgram.VitTask, tree);

        var (exitCode, output) = BuildProgram.Run(trained.Directory.Path, "--target=Sbumit", $"--pipeline={trained.PipelinePath}");
        Assert.Equal(1, exitCode);
        Assert.Contains("There is no task named 'Sbumit'. Targets: ", output);
        Assert.Contains("Submit", output);
        Assert.Contains(BuildProgram.VitTask, output);
    }
}
