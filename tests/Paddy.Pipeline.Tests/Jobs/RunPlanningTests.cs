using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Jobs;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Tests.Build;

namespace Paddy.Pipeline.Tests.Jobs;

/// <summary>The run's decisions on the sample data: what each mode may do about accum: auto, and what a failed probe becomes.</summary>
public sealed class RunPlanningTests : IDisposable
{
    private const long MiB = 1024 * 1024;
    private readonly TestDirectory directory = new();
    private readonly PipelineConfig pipeline;
    private readonly ArtifactStore store;

    public RunPlanningTests()
    {
        pipeline = PipelineLoader.Parse(
            BuildProgram.TinyPipeline("plan", models: "convnext").Replace("accum: 2,", "accum: auto,").Replace("name: plan", "name: plan\nmemory_budget_mib: 1000"),
            Path.Combine(directory.Path, "pipeline.yaml"), ModelCatalog.Names);
        store = new ArtifactStore(Path.Combine(directory.Path, "artifacts", "plan"));
    }

    public void Dispose() => directory.Dispose();

    private TrainDecision Decide(PlanningMode mode, Func<CombinationConfig, int, long?> measure, List<string>? log = null) =>
        RunPlanning.Decide(new PlanningRequest(pipeline, store, null, "cpu", false, mode),
            new TaskPlanner(pipeline, store, readOnly: mode == PlanningMode.DryRun), pipeline.Models, measure, m => log?.Add(m)).Values.Single();

    private static long? NeverMeasure(CombinationConfig combination, int accum) =>
        throw new InvalidOperationException($"{combination.TaskName} was probed at accum {accum}");

    [Fact]
    public void Status_and_dry_runs_probe_nothing_and_say_so_and_a_dry_run_writes_nothing()
    {
        var status = Decide(PlanningMode.Status, NeverMeasure);
        Assert.Equal(TrainAction.Undecided, status.Action);
        Assert.Null(status.Plan);
        Assert.StartsWith("accum: auto has no remembered memory probe for this data, device and budget", status.Reason);

        Directory.Delete(store.PipelineDirectory, recursive: true);
        var dry = Decide(PlanningMode.DryRun, NeverMeasure);
        Assert.Equal($"{BuildProgram.ConvNeXtTask}: would probe memory (accum: auto has no remembered answer for this data, device and budget), then train unless an artifact for the answer exists.", dry.WouldDo);
        Assert.False(Directory.Exists(store.PipelineDirectory));
    }

    [Fact]
    public void A_build_probes_once_remembers_the_answer_and_plans_with_it()
    {
        var probed = new List<int>();
        var log = new List<string>();
        var build = Decide(PlanningMode.Build, (_, accum) =>
        {
            probed.Add(accum);
            return accum < 4 ? throw new ProbeOutOfMemoryException("CUDA out of memory") : 900 * MiB;
        }, log);
        Assert.Equal([1, 2, 4], probed);
        Assert.Equal(TrainAction.Train, build.Action);
        Assert.Equal(4, build.Plan!.Combination.Training.Accum);
        Assert.Equal("no artifact yet", build.Reason);
        Assert.Contains($"{BuildProgram.ConvNeXtTask}: accum auto -> 4 (micro-batches of 16) fits 1000 MiB.", log);

        var status = Decide(PlanningMode.Status, NeverMeasure);
        Assert.Equal(build.Plan.Fingerprint, status.Plan!.Fingerprint);
    }

    [Fact]
    public async Task A_probe_that_fails_for_another_reason_fails_its_task_with_that_reason_and_trains_nothing()
    {
        var decision = Decide(PlanningMode.Build, (_, _) => throw new FileNotFoundException("train.csv is missing"));
        Assert.Equal(TrainAction.Undecided, decision.Action);
        Assert.EndsWith("failed for a reason other than memory, so accum: auto has no answer: train.csv is missing", decision.Reason);
        Assert.DoesNotContain("does not fit", decision.Reason);

        var trained = false;
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => TrainTaskJob.RunAsync(
            new TrainTaskRequest(decision, new TaskPlanner(pipeline, store), store, null, AllowTraining: true, Force: false),
            _ => { trained = true; return Task.CompletedTask; }, _ => { }));
        Assert.Equal($"{decision.TaskName}: {decision.Reason}.", e.Message);
        Assert.False(trained);
    }
}
