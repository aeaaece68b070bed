using Paddy.Pipeline.Artifacts;

namespace Paddy.Pipeline.Tests.Build;

/// <summary>Two builds started a moment apart on one artifacts folder, as two terminals or two CI jobs on one runner would.</summary>
[Collection(nameof(EndToEndCollection))]
public sealed class ConcurrentBuildTests
{
    [Fact]
    public async Task A_second_build_waits_for_the_one_training_its_task_then_uses_that_artifact_so_the_task_is_trained_once()
    {
        using var directory = new TestDirectory();
        File.WriteAllText(Path.Combine(directory.Path, "pipeline.yaml"), BuildProgram.TinyPipeline("e2e", models: "convnext", convnextEpochs: 3));
        string[] arguments = [$"--target={BuildProgram.ConvNeXtTask}"];

        var first = BuildProgram.Start(directory.Path, arguments);
        var firstPid = first.Id;
        WorkerProcesses.WaitFor(BuildProgram.ConvNeXtTask, TimeSpan.FromMinutes(2));
        var second = BuildProgram.Start(directory.Path, arguments);
        // Both outputs are read at once: a build whose output nobody reads blocks, and the other waits for it.
        var secondRun = Task.Run(() => BuildProgram.Finish(second, "the second build"));
        var (firstExit, firstOutput) = BuildProgram.Finish(first, "the first build");
        var (secondExit, secondOutput) = await secondRun;

        Assert.True(firstExit == 0, firstOutput);
        Assert.True(secondExit == 0, secondOutput);
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: no artifact yet; training.", firstOutput);
        Assert.Contains($"waiting for {BuildProgram.ConvNeXtTask}: held by PID {firstPid} on host {Environment.MachineName} since ", secondOutput);
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: became up to date while this build waited for its lock", secondOutput);
        // Trained once, without a resume from the other build's checkpoint: the header, one frozen epoch and three.
        var models = Path.Combine(directory.Path, "artifacts", "e2e", "models");
        var history = File.ReadAllLines(Path.Combine(models, BuildProgram.ConvNeXtSlug, ArtifactFiles.History));
        Assert.Equal(1 + 1 + 3, history.Length);
        Assert.Equal([BuildProgram.ConvNeXtSlug], Directory.GetDirectories(models).Select(Path.GetFileName));
    }
}
