using System.Security.Cryptography;
using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Jobs;
using Paddy.Pipeline.Models;

namespace Paddy.Pipeline.Tests.Build;

/// <summary>
/// What the build decides before any task runs, checked on the real program: dry runs and Status start no process and
/// write nothing, commands that need no data run without it, and a failed task fails the build.
/// </summary>
[Collection(nameof(EndToEndCollection))]
public sealed class RunDecisionTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void A_dry_run_with_accum_auto_and_a_shared_cache_starts_no_process_writes_nothing_and_says_what_it_would_do()
    {
        using var directory = new TestDirectory();
        var pipelinePath = Path.Combine(directory.Path, "pipeline.yaml");
        File.WriteAllText(pipelinePath, BuildProgram.TinyPipeline("dry").Replace("accum: 2,", "accum: auto,"));
        var convnextFingerprint = SeedProbeAnswerAndCacheEntry(directory.Path, pipelinePath);
        var before = Snapshot(directory.Path);

        var (exitCode, output, children) = RunWatchingChildren(directory.Path, "--target=Submit", "--dryrun", "--cache=cache");

        Assert.True(exitCode == 0, output);
        Assert.Empty(children);
        Assert.Equal(before, Snapshot(directory.Path));
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: accum auto -> 1 (micro-batches of 64)", output);
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: would restore from cache ({Path.Combine(directory.Path, "cache")}, fingerprint {convnextFingerprint[..12]}).", output);
        Assert.Contains($"{BuildProgram.VitTask}: would probe memory (accum: auto has no remembered answer", output);
        Assert.DoesNotContain("Probing", output);
    }

    [Fact]
    public void Status_with_accum_auto_and_no_remembered_probe_names_the_combination_and_starts_no_process()
    {
        using var directory = new TestDirectory();
        File.WriteAllText(Path.Combine(directory.Path, "pipeline.yaml"),
            BuildProgram.TinyPipeline("status", models: "convnext").Replace("accum: 2,", "accum: auto,"));

        var (exitCode, output, children) = RunWatchingChildren(directory.Path, "--target=Status");

        Assert.True(exitCode == 0, output);
        Assert.Empty(children);
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: stale", output);
        Assert.Contains("accum: auto has no remembered memory probe for this data, device and budget", output);
        Assert.False(File.Exists(Path.Combine(directory.Path, "artifacts", "status", ".cache", "memory-probe.json")));
    }

    [Fact]
    public void Commands_that_need_no_data_run_without_it_and_Plan_and_Status_name_the_missing_folder()
    {
        using var directory = new TestDirectory();
        File.WriteAllText(Path.Combine(directory.Path, "pipeline.yaml"),
            BuildProgram.TinyPipeline("nodata").Replace($"root: {BuildProgram.SampleData}", "root: ./input"));
        var missing = Path.Combine(directory.Path, "input");

        foreach (var command in new[] { "--tree", "--description", "--dryrun", "--target=Describe", "--version", "--target=Clean" })
        {
            var (exitCode, output) = BuildProgram.Run(directory.Path, command);
            Assert.True(exitCode == 0, $"{command}: {output}");
        }
        var (dryExit, dryOutput) = BuildProgram.Run(directory.Path, "--target=Submit", "--dryrun");
        Assert.True(dryExit == 0, dryOutput);
        Assert.Contains($"The data folder {missing} does not exist", dryOutput);

        foreach (var target in new[] { "Plan", "Status" })
        {
            var (exitCode, output) = BuildProgram.Run(directory.Path, $"--target={target}");
            Assert.True(exitCode == 1, $"{target}: {output}");
            Assert.Contains($"The data folder {missing} does not exist (data.root in {Path.Combine(directory.Path, "pipeline.yaml")}). Put the Kaggle data there", output);
        }
        Assert.False(Directory.Exists(Path.Combine(directory.Path, "artifacts")));
    }

    [Fact]
    public void A_Train_task_run_exclusive_whose_training_fails_exits_non_zero_naming_the_failure()
    {
        // A weights file that is not safetensors passes the data pre-flight and planning (it is only hashed) and fails
        // the training itself, in the worker process.
        using var directory = new TestDirectory();
        var weights = Path.Combine(directory.Path, "truncated.safetensors");
        File.WriteAllBytes(weights, new byte[1000]);
        File.WriteAllText(Path.Combine(directory.Path, "pipeline.yaml"),
            BuildProgram.TinyPipeline("broken", models: "convnext").Replace("weights: none", $"weights: {weights}"));

        var (exitCode, output) = BuildProgram.Run(directory.Path, $"--target={BuildProgram.ConvNeXtTask}", "--exclusive");

        Assert.True(exitCode == 1, output);
        var summary = output[output.LastIndexOf("1 task(s) failed:", StringComparison.Ordinal)..];
        Assert.Contains($"  {BuildProgram.ConvNeXtTask}: {BuildProgram.ConvNeXtTask} failed in its worker process", summary);
        Assert.Contains($"{weights} is not a valid safetensors file", summary);
    }

    /// <summary>
    /// Remembers a probe answer for the ConvNeXt combination and puts a verifying artifact for the resulting fingerprint
    /// in ./cache, as an earlier machine would have: a build would restore it (and probe the ViT).
    /// </summary>
    private static string SeedProbeAnswerAndCacheEntry(string directory, string pipelinePath)
    {
        var pipeline = PipelineLoader.Load(pipelinePath, ModelCatalog.Names);
        var store = new ArtifactStore(Path.Combine(directory, "artifacts", pipeline.Name));
        var planner = new TaskPlanner(pipeline, store, readOnly: true);
        var convnext = pipeline.Models.Single(m => m.TaskName == BuildProgram.ConvNeXtTask);
        ProbeCache.For(store).Save(ProbeCache.Key(convnext, planner.Data.Sha256, "auto", pipeline.MemoryBudgetMiB * MiB),
            [new ProbeRow(convnext.TaskName, 1, 64, 100 * MiB, true, null)]);
        var plan = planner.Plan(convnext with { Training = convnext.Training with { Accum = 1 } });

        var entry = Path.Combine(directory, "cache", plan.Fingerprint);
        Directory.CreateDirectory(entry);
        var probabilities = Path.Combine(entry, ArtifactFiles.TestProbabilities);
        File.WriteAllText(probabilities, "probabilities");
        new ArtifactManifest
        {
            Task = convnext.TaskName, Fingerprint = plan.Fingerprint, FingerprintInputs = plan.Inputs.ToJson(), Vocab = ["a"],
            ValidError = 0, ValidLoss = 0, ValidCount = 1, TestIds = ["1"], Device = "cpu", Precision = "Float32", TrainSeconds = 1,
            Files = new Dictionary<string, ArtifactFile>
            {
                [ArtifactFiles.TestProbabilities] = new(FileHashCache.HashFile(probabilities), new FileInfo(probabilities).Length),
            },
        }.Write(Path.Combine(entry, ArtifactManifest.FileName));
        return plan.Fingerprint;
    }

    /// <summary>Every folder and file under <paramref name="root"/> with its size, time and content hash.</summary>
    private static string Snapshot(string root) => string.Join("\n",
        Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(path =>
            File.Exists(path)
                ? $"{Path.GetRelativePath(root, path)} {new FileInfo(path).Length} {File.GetLastWriteTimeUtc(path):O} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))}"
                : $"{Path.GetRelativePath(root, path)}/ {Directory.GetLastWriteTimeUtc(path):O}"));

    /// <summary>Runs the build and records the command line of every child process it starts (polled every few milliseconds).</summary>
    private static (int ExitCode, string Output, IReadOnlyList<string> Children) RunWatchingChildren(string directory, params string[] arguments)
    {
        var build = BuildProgram.Start(directory, arguments);
        var pid = build.Id;
        var children = new HashSet<string>();
        using var finished = new CancellationTokenSource();
        var watching = Task.Run(() =>
        {
            while (!finished.IsCancellationRequested)
            {
                foreach (var child in ChildrenOf(pid)) lock (children) children.Add(child);
                Thread.Sleep(5);
            }
        });
        var (exitCode, output) = BuildProgram.Finish(build, string.Join(" ", arguments));
        finished.Cancel();
        watching.Wait();
        return (exitCode, output, children.ToList());
    }

    private static IEnumerable<string> ChildrenOf(int parent)
    {
        foreach (var folder in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out _)) continue;
            string stat, commandLine;
            try
            {
                stat = File.ReadAllText(Path.Combine(folder, "stat"));
                commandLine = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' ');
            }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            // "pid (command) state ppid ...": the command may hold spaces, so fields are counted after its ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (int.TryParse(fields[1], out var ppid) && ppid == parent) yield return commandLine;
        }
    }
}
