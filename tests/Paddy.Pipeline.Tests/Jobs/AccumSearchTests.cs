using Paddy.Pipeline.Jobs;

namespace Paddy.Pipeline.Tests.Jobs;

public sealed class AccumSearchTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Picks_the_smallest_accum_whose_peak_fits_and_probes_no_further()
    {
        var probed = new List<int>();
        // Peak memory of a run falls with the micro-batch: a fixed part plus a part per sample.
        var rows = AccumSearch.Run("Train:x", 64, 2_000 * MiB, accum =>
        {
            probed.Add(accum);
            return 500 * MiB + 64 / accum * 60 * MiB;
        });
        Assert.Equal([1, 2, 4], probed);
        Assert.Equal([4340 * MiB, 2420 * MiB, 1460 * MiB], rows.Select(r => r.PeakBytes!.Value));
        Assert.Equal([false, false, true], rows.Select(r => r.Fits));
        Assert.Equal([64, 32, 16], rows.Select(r => r.MicroBatchSize));
        Assert.Equal(4, AccumSearch.Chosen(rows, 2_000 * MiB));
    }

    [Fact]
    public void A_probe_that_runs_out_of_memory_counts_as_not_fitting()
    {
        var rows = AccumSearch.Run("Train:x", 8, 1_000 * MiB, accum =>
            accum < 4 ? throw new ProbeOutOfMemoryException("CUDA out of memory. Tried to allocate 2.00 GiB\nmore") : 900 * MiB);
        Assert.Equal([1, 2, 4], rows.Select(r => r.Accum));
        Assert.Equal("CUDA out of memory. Tried to allocate 2.00 GiB", rows[0].Failure);
        Assert.Equal(4, AccumSearch.Chosen(rows, 1_000 * MiB));
    }

    [Fact]
    public void A_probe_that_fails_for_another_reason_is_reported_as_that_failure_and_probes_no_further()
    {
        var probed = new List<int>();
        var e = Assert.Throws<InvalidOperationException>(() => AccumSearch.Run("Train:x", 8, 1_000 * MiB, accum =>
        {
            probed.Add(accum);
            throw new FileNotFoundException("train.csv is missing");
        }));
        Assert.Equal([1], probed);
        Assert.Equal("Train:x: the memory probe at accum 1 failed for a reason other than memory, so accum: auto has no answer: train.csv is missing", e.Message);
        Assert.DoesNotContain("does not fit", e.Message);
    }

    [Theory]
    [InlineData("{\"abc\": [{\"task\": \"Train:x\", \"acc")]
    [InlineData("")]
    [InlineData("null")]
    public void Damaged_remembered_probe_answers_are_an_error_naming_the_file_and_the_fix(string damaged)
    {
        using var directory = new TestDirectory();
        var store = new Paddy.Pipeline.Artifacts.ArtifactStore(directory.Path);
        var cache = ProbeCache.For(store);
        cache.Save("abc", [new ProbeRow("Train:x", 1, 64, 100, true, null)]);
        Assert.Equal(100, Assert.Single(cache.Find("abc")!).PeakBytes);
        var path = Path.Combine(directory.Path, ".cache", "memory-probe.json");
        File.WriteAllText(path, damaged);
        var e = Assert.Throws<InvalidDataException>(() => cache.Find("abc"));
        Assert.StartsWith($"{path} holds no readable memory-probe answers (", e.Message);
        Assert.EndsWith("Delete it; the next build or --target=ProbeMemory measures again.", e.Message);
    }

    [Fact]
    public void When_even_one_sample_per_micro_batch_does_not_fit_the_error_says_what_to_change()
    {
        var rows = AccumSearch.Run("Train:huge", 4, 100 * MiB, _ => 200 * MiB);
        Assert.Equal([1, 2, 4], rows.Select(r => r.Accum));
        var e = Assert.Throws<InvalidOperationException>(() => AccumSearch.Chosen(rows, 100 * MiB));
        Assert.Equal("Train:huge does not fit 100 MiB even in micro-batches of 1; raise memory_budget_mib, or choose a smaller size or model.", e.Message);
    }

    [Fact]
    public void Accum_auto_is_read_from_pipeline_yaml_with_the_budget()
    {
        using var directory = new TestDirectory();
        Directory.CreateDirectory(Path.Combine(directory.Path, "data"));
        var pipeline = Paddy.Pipeline.Config.PipelineLoader.Parse(
            "name: x\nmemory_budget_mib: 8000\ndata: { root: data }\ntraining: { accum: auto }\nmodels: [ { arch: convnext_atto, size: 64 } ]\n",
            Path.Combine(directory.Path, "pipeline.yaml"), Paddy.Pipeline.Models.ModelCatalog.Names);
        Assert.Equal(8000, pipeline.MemoryBudgetMiB);
        Assert.True(pipeline.Models[0].Training.IsAutoAccum);
        Assert.Contains("accum: auto", Paddy.Pipeline.Config.PipelineDescription.Render(pipeline));
    }
}
