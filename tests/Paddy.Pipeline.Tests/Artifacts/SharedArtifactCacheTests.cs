using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Tests.Artifacts;

[Collection(nameof(ContendingProcessCollection))]
public sealed class SharedArtifactCacheTests : IDisposable
{
    private readonly TestDirectory directory = new();
    private readonly SharedArtifactCache cache;

    public SharedArtifactCacheTests() => cache = new SharedArtifactCache(Path.Combine(directory.Path, "shared"));

    public void Dispose() => directory.Dispose();

    private ArtifactStore Machine(string name) => new(Path.Combine(directory.Path, name, "demo"));

    private static void Train(ArtifactStore store, string fingerprint, string probabilities = "p", string history = "epoch\n0\n") =>
        store.Commit("x", folder =>
        {
            File.WriteAllText(Path.Combine(folder, "test_probs.safetensors"), probabilities);
            File.WriteAllText(Path.Combine(folder, "history.csv"), history);
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

    [Fact]
    public void Two_processes_replacing_one_entry_at_once_leave_one_whole_copy_and_a_reader_never_sees_it_missing_or_mixed()
    {
        // Two copies that differ in every file, large enough that copying them takes a while.
        var a = Machine("a");
        Train(a, "f1", new string('a', 1 << 20), "epoch\na\n");
        var b = Machine("b");
        Train(b, "f1", new string('b', 1 << 20), "epoch\nb\n");
        cache.Save("f1", a.PathOf("x"));

        using var writerA = ContendingProcess.Start("save-shared-cache", cache.Root, "f1", a.PathOf("x"), "40");
        using var writerB = ContendingProcess.Start("save-shared-cache", cache.Root, "f1", b.PathOf("x"), "40");
        var reader = Machine("reader");
        var (finds, restores) = (0, 0);
        var problems = new List<string>();
        while (!writerA.Process.HasExited || !writerB.Process.HasExited)
        {
            var (found, why) = cache.Find("f1");
            finds++;
            if (found is null && why == "not in the shared cache") problems.Add($"find {finds}: {why}");
            if (cache.TryRestore("f1", reader, "x").Restored is not null)
            {
                restores++;
                var probabilities = File.ReadAllText(Path.Combine(reader.PathOf("x"), "test_probs.safetensors"));
                var history = File.ReadAllText(Path.Combine(reader.PathOf("x"), "history.csv"));
                if (history != $"epoch\n{probabilities[0]}\n") problems.Add($"restore {restores}: a mixed copy");
            }
        }

        Assert.True(writerA.Process.WaitForExit(TimeSpan.FromSeconds(30)) && writerB.Process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.True(writerA.Process.ExitCode == 0, writerA.Output);
        Assert.True(writerB.Process.ExitCode == 0, writerB.Output);
        Assert.Empty(problems);
        Assert.True(restores > 0, $"{finds} finds, no restore succeeded");
        Assert.Equal(["f1"], Directory.EnumerateFileSystemEntries(cache.Root).Select(Path.GetFileName));
        Assert.Equal("in the shared cache", cache.Find("f1").Reason);
    }

    [Fact]
    public void The_staging_folder_of_a_writer_killed_midway_is_removed_by_the_next_save_and_the_entry_stays_whole()
    {
        var a = Machine("a");
        Train(a, "f1", new string('a', 64 << 20));
        var b = Machine("b");
        Train(b, "f1", "from b");
        string[] leftovers = [];
        for (var attempt = 0; attempt < 5 && leftovers.Length == 0; attempt++)
        {
            cache.Save("f1", b.PathOf("x"));
            using var writer = ContendingProcess.Start("save-shared-cache", cache.Root, "f1", a.PathOf("x"), "1");
            while (!writer.Process.HasExited && !Directory.EnumerateDirectories(cache.Root, ".incoming-*").Any()) Thread.Sleep(1);
            writer.Process.Kill();
            Assert.True(writer.Process.WaitForExit(TimeSpan.FromSeconds(30)));
            leftovers = Directory.GetDirectories(cache.Root, ".incoming-*");
        }
        Assert.NotEmpty(leftovers);
        Assert.NotNull(cache.Find("f1").Manifest);

        cache.Save("f1", b.PathOf("x"));

        Assert.Equal(["f1"], Directory.EnumerateFileSystemEntries(cache.Root).Select(Path.GetFileName));
        Assert.Equal("from b", File.ReadAllText(Path.Combine(cache.PathOf("f1"), "test_probs.safetensors")));
    }
}
