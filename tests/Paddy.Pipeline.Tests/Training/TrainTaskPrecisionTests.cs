using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Jobs;
using Paddy.Pipeline.Models;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

/// <summary>A whole Train task (the worker's TrainJob.Run) in bfloat16 mixed precision, on a slice of the demo data.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainTaskPrecisionTests
{
    private const int PerClass = 4;
    private const int TestImages = 6;

    [Fact]
    public void A_bf16_train_task_trains_both_phases_predicts_with_tta_and_writes_its_artifact()
    {
        using var folder = new TempFolder();
        var data = CopyDemoSlice(folder.Path);
        File.WriteAllText(Path.Combine(folder.Path, "pipeline.yaml"), $"""
            name: bf16
            data: {"{"} root: {data} {"}"}
            training: {"{"} epochs: 1, freeze_epochs: 1, lr: 0.01, batch_size: 8, accum: 2, precision: bf16, tta: {"{"} n: 2, beta: 0.25 {"}"} {"}"}
            models:
              - arch: convnext_atto
                weights: none
                resize: {"{"} method: squish, size: 32 {"}"}
                size: 32
            """);
        var pipeline = PipelineLoader.Load(Path.Combine(folder.Path, "pipeline.yaml"), ModelCatalog.Names);
        var store = new ArtifactStore(Path.Combine(folder.Path, "artifacts"));
        var plan = new TaskPlanner(pipeline, store).Plan(pipeline.Models[0]);
        var console = new StringWriter();

        var manifest = TrainJob.Run(new TrainRequest(pipeline, plan, store, "cpu"), console, CancellationToken.None);

        Assert.Equal("BFloat16", manifest.Precision);
        Assert.Equal("bf16", manifest.FingerprintInputs["combination"]!["training"]!["precision"]!.GetValue<string>());
        Assert.Equal(2 * PerClass, manifest.ValidCount);
        var artifact = store.PathOf(pipeline.Models[0].Slug);
        using (var test = SafeTensors.Load(Path.Combine(artifact, ArtifactFiles.TestProbabilities)))
        {
            var probabilities = test[ArtifactFiles.ProbabilitiesKey];
            Assert.Equal(ScalarType.Float32, probabilities.dtype);
            Assert.Equal([(long)TestImages, 10], probabilities.shape);
            Assert.True(probabilities.sum(1).allclose(ones(TestImages), atol: 1e-5));
        }
        var history = File.ReadAllLines(Path.Combine(artifact, ArtifactFiles.History));
        Assert.Equal(["frozen", "unfrozen"], history.Skip(1).Select(line => line.Split(',')[0]));
        Assert.DoesNotContain("nan", string.Join("\n", history));
        // The checkpoint is gone once the artifact is in place.
        Assert.False(File.Exists(Path.Combine(store.WorkPathOf(pipeline.Models[0].Slug), "checkpoint.safetensors")));
    }

    /// <summary>PerClass training images of each class and the first test images of samples/fashion-mnist, in Paddy's layout.</summary>
    private static string CopyDemoSlice(string folder)
    {
        var demo = Path.Combine(RepositoryRoot.Path, "samples", "fashion-mnist");
        var data = Path.Combine(folder, "data");
        var rows = File.ReadAllLines(Path.Combine(demo, "train.csv")).Skip(1).Select(l => l.Split(','))
            .GroupBy(r => r[1]).SelectMany(g => g.Take(PerClass)).ToList();
        foreach (var row in rows)
        {
            Directory.CreateDirectory(Path.Combine(data, "train_images", row[1]));
            File.Copy(Path.Combine(demo, "train_images", row[1], row[0]), Path.Combine(data, "train_images", row[1], row[0]));
        }
        File.WriteAllLines(Path.Combine(data, "train.csv"), rows.Select(r => $"{r[0]},{r[1]}").Prepend("image_id,label"));
        var tests = File.ReadAllLines(Path.Combine(demo, "sample_submission.csv")).Skip(1).Take(TestImages).Select(l => l.Split(',')[0]).ToList();
        Directory.CreateDirectory(Path.Combine(data, "test_images"));
        foreach (var id in tests) File.Copy(Path.Combine(demo, "test_images", id), Path.Combine(data, "test_images", id));
        File.WriteAllLines(Path.Combine(data, "sample_submission.csv"), tests.Select(id => $"{id},").Prepend("image_id,label"));
        return data;
    }
}
