using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Tests.Artifacts;

public sealed class ArtifactStoreTests : IDisposable
{
    private readonly TestDirectory directory = new();
    private readonly ArtifactStore store;

    public ArtifactStoreTests() => store = new ArtifactStore(Path.Combine(directory.Path, "demo"));

    public void Dispose() => directory.Dispose();

    private static ArtifactManifest Manifest(string fingerprint) => new()
    {
        Task = "Train:x", Fingerprint = fingerprint, FingerprintInputs = [], Vocab = ["a", "b"], ValidError = 0.25,
        ValidLoss = 0.5, ValidCount = 4, TestIds = ["t1.png"], Device = "cpu", Precision = "fp32", TrainSeconds = 1,
    };

    private ArtifactManifest Write(string slug, string fingerprint, string contents = "probabilities") =>
        store.Commit(slug, folder =>
        {
            File.WriteAllText(Path.Combine(folder, "test_probs.safetensors"), contents);
            return Manifest(fingerprint);
        });

    [Fact]
    public void A_committed_artifact_is_up_to_date_for_its_fingerprint_only()
    {
        var manifest = Write("x", "f1");
        Assert.Equal(FileHashCache.HashFile(Path.Combine(store.PathOf("x"), "test_probs.safetensors")), manifest.Files["test_probs.safetensors"].Sha256);
        Assert.Equal("up to date", store.Check("x", "f1").Reason);
        Assert.NotNull(store.Check("x", "f1").Manifest);
        Assert.Null(store.Check("x", "f2").Manifest);
        Assert.Equal("no artifact yet", store.Check("y", "f1").Reason);
    }

    [Fact]
    public void A_failure_mid_write_leaves_no_artifact_and_keeps_the_previous_one()
    {
        Write("x", "f1", "old");
        Assert.Throws<IOException>(() => store.Commit("x", folder =>
        {
            File.WriteAllText(Path.Combine(folder, "test_probs.safetensors"), "half of the new one");
            throw new IOException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(Path.Combine(store.PathOf("x"), "test_probs.safetensors")));
        Assert.Equal("up to date", store.Check("x", "f1").Reason);
        Assert.Single(Directory.EnumerateDirectories(store.ModelsDirectory));

        Assert.Throws<IOException>(() => store.Commit("new", _ => throw new IOException("killed")));
        Assert.Equal("no artifact yet", store.Check("new", "f1").Reason);
    }

    [Fact]
    public void A_killed_write_leaves_only_an_incomplete_folder_that_never_counts_and_is_swept()
    {
        Directory.CreateDirectory(Path.Combine(store.ModelsDirectory, ".incomplete-x-123-abc"));
        File.WriteAllText(Path.Combine(store.ModelsDirectory, ".incomplete-x-123-abc", "test_probs.safetensors"), "partial");
        Assert.Null(store.Check("x", "f1").Manifest);
        store.RemoveIncomplete();
        Assert.Empty(Directory.EnumerateDirectories(store.ModelsDirectory));
    }

    [Fact]
    public void A_tampered_or_missing_file_makes_the_artifact_stale()
    {
        Write("x", "f1");
        File.WriteAllText(Path.Combine(store.PathOf("x"), "test_probs.safetensors"), "probabilitiez");
        Assert.Equal("test_probs.safetensors does not match the hash in its manifest", store.Check("x", "f1").Reason);
        File.Delete(Path.Combine(store.PathOf("x"), "test_probs.safetensors"));
        Assert.Equal("test_probs.safetensors is missing from the artifact", store.Check("x", "f1").Reason);
    }

    [Fact]
    public void Recommitting_replaces_the_artifact_whole()
    {
        Write("x", "f1", "old");
        Write("x", "f2", "new");
        Assert.Equal("new", File.ReadAllText(Path.Combine(store.PathOf("x"), "test_probs.safetensors")));
        Assert.Equal("up to date", store.Check("x", "f2").Reason);
        Assert.Single(Directory.EnumerateDirectories(store.ModelsDirectory));
    }
}
