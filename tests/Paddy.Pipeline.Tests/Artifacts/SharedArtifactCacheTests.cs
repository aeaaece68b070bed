using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Tests.Artifacts;

public sealed class SharedArtifactCacheTests : IDisposable
{
    private readonly TestDirectory directory = new();
    private readonly SharedArtifactCache cache;

    public SharedArtifactCacheTests() => cache = new SharedArtifactCache(Path.Combine(directory.Path, "shared"));

    public void Dispose() => directory.Dispose();

    private ArtifactStore Machine(string name) => new(Path.Combine(directory.Path, name, "demo"));

    private static void Train(ArtifactStore store, string fingerprint, string probabilities = "p") =>
        store.Commit("x", folder =>
        {
            File.WriteAllText(Path.Combine(folder, "test_probs.safetensors"), probabilities);
            File.WriteAllText(Path.Combine(folder, "history.csv"), "epoch\n0\n");
            return new ArtifactManifest
            {
                Task = "Train:x", Fingerprint = fingerprint, FingerprintInputs = [], Vocab = ["a"], ValidError = 0,
                ValidLoss = 0, ValidCount = 1, TestIds = ["1"], Device = "cpu", Precision = "fp32", TrainSeconds = 1,
            };
        });

    [Fact]
    public void An_artifact_saved_on_one_machine_restores_verified_on_another()
    {
        var first = Machine("a");
        Train(first, "f1");
        cache.Save("f1", first.PathOf("x"));

        var second = Machine("b");
        var (restored, reason) = cache.TryRestore("f1", second, "x");
        Assert.Equal("restored from the shared cache", reason);
        Assert.NotNull(restored);
        Assert.Equal("up to date", second.Check("x", "f1").Reason);
        Assert.Equal("p", File.ReadAllText(Path.Combine(second.PathOf("x"), "test_probs.safetensors")));
        Assert.Null(cache.TryRestore("f2", second, "y").Restored);
    }

    [Fact]
    public void A_tampered_cached_file_is_detected_and_nothing_is_restored()
    {
        var first = Machine("a");
        Train(first, "f1");
        cache.Save("f1", first.PathOf("x"));
        File.WriteAllText(Path.Combine(cache.PathOf("f1"), "test_probs.safetensors"), "q");

        var second = Machine("b");
        var (restored, reason) = cache.TryRestore("f1", second, "x");
        Assert.Null(restored);
        Assert.Equal("the cached copy was rejected: test_probs.safetensors does not match its hash", reason);
        Assert.Equal("no artifact yet", second.Check("x", "f1").Reason);
    }

    [Fact]
    public void Saving_the_same_fingerprint_twice_keeps_one_whole_copy_and_the_last_writer_wins()
    {
        var first = Machine("a");
        Train(first, "f1", "from a");
        cache.Save("f1", first.PathOf("x"));
        cache.Save("f1", first.PathOf("x"));
        var second = Machine("b");
        Train(second, "f1", "from b");
        cache.Save("f1", second.PathOf("x"));

        Assert.Equal(["f1"], Directory.EnumerateDirectories(cache.Root).Select(Path.GetFileName));
        Assert.Equal("from b", File.ReadAllText(Path.Combine(cache.PathOf("f1"), "test_probs.safetensors")));
        Assert.NotNull(cache.Find("f1").Manifest);
    }
}
