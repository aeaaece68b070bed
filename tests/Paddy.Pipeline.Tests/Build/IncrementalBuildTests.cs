using System.Runtime.InteropServices;
using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Tests.Build;

/// <summary>What users rely on beyond one clean run: partial retraining, CI legs merged by cache, crashes, Ctrl-C, resume.</summary>
[Collection(nameof(EndToEndCollection))]
public sealed class IncrementalBuildTests(TrainedPipeline trained) : IClassFixture<TrainedPipeline>
{
    private static string Pipeline(TestDirectory directory, string yaml)
    {
        var path = Path.Combine(directory.Path, "pipeline.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static void CopyFolder(string source, string destination)
    {
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Fact]
    public void Editing_one_combination_retrains_it_alone_and_re_ensembles()
    {
        using var directory = new TestDirectory();
        CopyFolder(Path.Combine(trained.Directory.Path, "artifacts"), Path.Combine(directory.Path, "artifacts"));
        var pipeline = Pipeline(directory, BuildProgram.TinyPipeline("e2e", vitEpochs: 2));
        var (exitCode, output) = BuildProgram.Run(directory.Path, "--target=Submit", $"--pipeline={pipeline}");
        Assert.True(exitCode == 0, output);
        Assert.Contains($"{BuildProgram.VitTask}: its inputs changed (fingerprint differs); training.", output);
        Assert.DoesNotContain($"{BuildProgram.ConvNeXtTask}: ", output.Replace($"{BuildProgram.ConvNeXtTask}: skipped", ""));
        Assert.Matches($@"{System.Text.RegularExpressions.Regex.Escape(BuildProgram.ConvNeXtTask)}\s+\S+\s+Skipped", output);
        var history = File.ReadAllLines(Path.Combine(directory.Path, "artifacts", "e2e", "models", BuildProgram.VitSlug, ArtifactFiles.History));
        Assert.Equal(1 + 1 + 2, history.Length);
    }

    [Fact]
    public void Ci_legs_merged_through_the_cache_ensemble_without_training_into_the_same_submission()
    {
        using var directory = new TestDirectory();
        var legs = new[] { (Name: "leg-convnext", Task: BuildProgram.ConvNeXtTask), (Name: "leg-vit", Task: BuildProgram.VitTask) };
        var merged = Path.Combine(directory.Path, "ensemble", "cache");
        foreach (var (name, task) in legs)
        {
            var checkout = Path.Combine(directory.Path, name);
            Directory.CreateDirectory(checkout);
            File.WriteAllText(Path.Combine(checkout, "pipeline.yaml"), BuildProgram.TinyPipeline("e2e"));
            var (legExit, legOutput) = BuildProgram.Run(checkout, $"--target={task}", "--exclusive", "--cache=cache");
            Assert.True(legExit == 0, legOutput);
            Assert.Single(Directory.GetDirectories(Path.Combine(checkout, "artifacts", "e2e", "models")));
            CopyFolder(Path.Combine(checkout, "cache"), merged);
        }

        var ensemble = Path.Combine(directory.Path, "ensemble");
        File.WriteAllText(Path.Combine(ensemble, "pipeline.yaml"), BuildProgram.TinyPipeline("e2e"));
        var (exitCode, output) = BuildProgram.Run(ensemble, "--target=Submit", "--cache=cache", "--train=false");
        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("training.", output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(trained.Artifacts, "submission.csv")),
            File.ReadAllBytes(Path.Combine(ensemble, "artifacts", "e2e", "submission.csv")));

        // A tampered file in the shared cache is caught, and that task trains again.
        var convnextFingerprint = ArtifactManifest.Read(Path.Combine(trained.Artifacts, "models", BuildProgram.ConvNeXtSlug, ArtifactManifest.FileName)).Fingerprint;
        var tampered = Path.Combine(merged, convnextFingerprint, ArtifactFiles.TestProbabilities);
        var bytes = File.ReadAllBytes(tampered);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(tampered, bytes);
        var fresh = Path.Combine(directory.Path, "fresh");
        Directory.CreateDirectory(fresh);
        File.WriteAllText(Path.Combine(fresh, "pipeline.yaml"), BuildProgram.TinyPipeline("e2e"));
        var (retrainExit, retrainOutput) = BuildProgram.Run(fresh, "--target=Submit", $"--cache={merged}");
        Assert.True(retrainExit == 0, retrainOutput);
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: the cached copy was rejected: {ArtifactFiles.TestProbabilities} does not match its hash.", retrainOutput);
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: no artifact yet; training.", retrainOutput);
        Assert.DoesNotContain($"{BuildProgram.VitTask}: no artifact yet; training.", retrainOutput);
        Assert.Equal(File.ReadAllBytes(Path.Combine(trained.Artifacts, "submission.csv")),
            File.ReadAllBytes(Path.Combine(fresh, "artifacts", "e2e", "submission.csv")));
    }

    [Fact]
    public void A_killed_training_resumes_from_its_last_epoch_to_the_same_artifact_as_an_uninterrupted_run()
    {
        using var directory = new TestDirectory();
        var yaml = BuildProgram.TinyPipeline("resume", models: "convnext", convnextEpochs: 3);
        var uninterrupted = Path.Combine(directory.Path, "uninterrupted");
        var killed = Path.Combine(directory.Path, "killed");
        foreach (var folder in new[] { uninterrupted, killed })
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "pipeline.yaml"), yaml);
        }
        var (exitCode, output) = BuildProgram.Run(uninterrupted, "--target=Train");
        Assert.True(exitCode == 0, output);

        var build = BuildProgram.Start(killed, "--target=Train");
        var checkpoint = Path.Combine(killed, "artifacts", "resume", "work", BuildProgram.ConvNeXtSlug, "checkpoint.safetensors");
        var worker = WorkerProcesses.WaitFor(BuildProgram.ConvNeXtTask, TimeSpan.FromMinutes(2));
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!File.Exists(checkpoint) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.True(File.Exists(checkpoint), "no checkpoint was written");
        build.Kill(entireProcessTree: true);
        Kill(worker, 9);
        BuildProgram.Finish(build, "killed build");
        Assert.False(Directory.Exists(Path.Combine(killed, "artifacts", "resume", "models", BuildProgram.ConvNeXtSlug)));

        var (resumedExit, resumedOutput) = BuildProgram.Run(killed, "--target=Train");
        Assert.True(resumedExit == 0, resumedOutput);
        Assert.Contains("Resuming from ", resumedOutput);
        foreach (var file in new[] { ArtifactFiles.TestProbabilities, ArtifactFiles.ValidPredictions })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(uninterrupted, "artifacts", "resume", "models", BuildProgram.ConvNeXtSlug, file)),
                File.ReadAllBytes(Path.Combine(killed, "artifacts", "resume", "models", BuildProgram.ConvNeXtSlug, file)));
        }
    }

    [Fact]
    public void A_worker_that_dies_fails_its_task_alone_and_ctrl_c_stops_cleanly_leaving_no_partial_artifact()
    {
        using var directory = new TestDirectory();
        var pipeline = Pipeline(directory, BuildProgram.TinyPipeline("crash", vitEpochs: 3));
        var models = Path.Combine(directory.Path, "artifacts", "crash", "models");

        // The kernel's OOM killer and a native crash both end the process with a signal: SIGKILL stands for both.
        var build = BuildProgram.Start(directory.Path, "--target=Submit", $"--pipeline={pipeline}");
        Kill(WorkerProcesses.WaitFor(BuildProgram.VitTask, TimeSpan.FromMinutes(3)), 9);
        var (exitCode, output) = BuildProgram.Finish(build, "crashing build");
        Assert.NotEqual(0, exitCode);
        Assert.Contains($"{BuildProgram.VitTask} failed in its worker process (exit code 137)", output);
        Assert.Contains("1 Train task(s) failed", output);
        var store = new ArtifactStore(Path.Combine(directory.Path, "artifacts", "crash"));
        var convnext = ArtifactManifest.Read(Path.Combine(store.PathOf(BuildProgram.ConvNeXtSlug), ArtifactManifest.FileName));
        Assert.Equal("up to date", store.Check(BuildProgram.ConvNeXtSlug, convnext.Fingerprint).Reason);
        Assert.Equal([BuildProgram.ConvNeXtSlug], Directory.GetDirectories(models).Select(Path.GetFileName));

        // Ctrl-C reaches the build, which passes it on to the worker; the worker stops between batches.
        var interrupted = BuildProgram.Start(directory.Path, "--target=Submit", $"--pipeline={pipeline}");
        WorkerProcesses.WaitFor(BuildProgram.VitTask, TimeSpan.FromMinutes(3));
        Thread.Sleep(2000);
        Kill(interrupted.Id, 2);
        var (cancelExit, cancelOutput) = BuildProgram.Finish(interrupted, "interrupted build");
        Assert.NotEqual(0, cancelExit);
        Assert.Contains("was cancelled; its last finished epoch is kept", cancelOutput);
        Assert.Equal([BuildProgram.ConvNeXtSlug], Directory.GetDirectories(models).Select(Path.GetFileName));
        Assert.DoesNotContain(BuildProgram.ConvNeXtTask + ": no artifact", cancelOutput);
    }

    [Fact]
    public void ProbeMemory_prints_its_table_and_accum_auto_trains_with_the_answer_once()
    {
        using var directory = new TestDirectory();
        var pipeline = Pipeline(directory, BuildProgram.TinyPipeline("probe", models: "convnext")
            .Replace("accum: 2,", "accum: auto,").Replace("name: probe", "name: probe\nmemory_budget_mib: 100000"));
        var (probeExit, probeOutput) = BuildProgram.Run(directory.Path, "--target=ProbeMemory", $"--pipeline={pipeline}");
        Assert.True(probeExit == 0, probeOutput);
        Assert.Contains("peak MiB", probeOutput);
        Assert.Matches(@"│ 1\s+│ 64\s+│ \d+\s+│ yes", probeOutput);
        var probe = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(directory.Path, "artifacts", "probe", "memory-probe.json")))!.AsArray();
        var row = Assert.Single(probe)!;
        Assert.Equal(BuildProgram.ConvNeXtTask, row["task"]!.GetValue<string>());
        Assert.Equal(1, row["accum"]!.GetValue<int>());
        Assert.True(row["fits"]!.GetValue<bool>());
        Assert.True(row["peak_bytes"]!.GetValue<long>() > 0);

        var (exitCode, output) = BuildProgram.Run(directory.Path, "--target=Submit", $"--pipeline={pipeline}");
        Assert.True(exitCode == 0, output);
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: accum auto -> 1 (micro-batches of 64)", output);
        Assert.DoesNotContain("Probing", output);
        var manifest = ArtifactManifest.Read(Path.Combine(directory.Path, "artifacts", "probe", "models", BuildProgram.ConvNeXtSlug, ArtifactManifest.FileName));
        Assert.Equal(1, manifest.FingerprintInputs["combination"]!["training"]!["accum"]!.GetValue<int>());
        Assert.True(manifest.PeakMemoryBytes > 0);
    }

    private static void Kill(int pid, int signal) => _ = SendSignal(pid, signal);

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);
}
