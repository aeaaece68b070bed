using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Config;
using Paddy.Pipeline.Jobs;

namespace Paddy.Pipeline.Tests.Jobs;

public sealed class StatusJobTests : IDisposable
{
    private static readonly CombinationConfig Combination = new("convnext_atto", "none",
        new ItemResize(new ImageSize(64, 64), ResizeMethod.Squish), new ImageSize(64, 64), 1,
        new TrainingSettings(12, 1, 0.01, 64, 4, Precision.Fp16, new TtaSettings(4, 0.25)));

    private static readonly PipelineConfig Pipeline = new("demo", "/p/pipeline.yaml", 42, new DataSettings("/data", 0.2, false), [Combination]);

    private static readonly DataManifest DataBefore = new(
        [new("train.csv", 10, "a1"), new("train_images/x/1.png", 5, "b1"), new("train_images/x/2.png", 5, "c1")], "data-before");

    private static readonly DataManifest DataAfter = new(
        [new("train.csv", 10, "a1"), new("train_images/x/1.png", 6, "b2"), new("train_images/x/3.png", 5, "d1")], "data-after");

    private readonly TestDirectory directory = new();
    private readonly ArtifactStore store;

    public StatusJobTests()
    {
        store = new ArtifactStore(Path.Combine(directory.Path, "demo"));
        DataBefore.SaveListing(Listings);
        DataAfter.SaveListing(Listings);
        var recorded = FingerprintInputs.For(Pipeline, Combination, DataBefore.Sha256, "weights-1", "code-1");
        store.Commit(Combination.Slug, folder =>
        {
            File.WriteAllText(Path.Combine(folder, ArtifactFiles.TestProbabilities), "p");
            return new ArtifactManifest
            {
                Task = Combination.TaskName, Fingerprint = Fingerprint.Of(recorded), FingerprintInputs = recorded.ToJson(),
                Vocab = ["a"], ValidError = 0, ValidLoss = 0, ValidCount = 1, TestIds = ["1"], Device = "cpu",
                Precision = "fp32", TrainSeconds = 1,
            };
        });
    }

    private string Listings => Path.Combine(directory.Path, "listings");

    public void Dispose() => directory.Dispose();

    private PlannedTask Plan(PipelineConfig pipeline, CombinationConfig combination, string data = "data-before",
        string weights = "weights-1", string code = "code-1")
    {
        var inputs = FingerprintInputs.For(pipeline, combination, data, weights, code);
        var fingerprint = Fingerprint.Of(inputs);
        var (finished, reason) = store.Check(combination.Slug, fingerprint);
        return new PlannedTask(combination, inputs, fingerprint, finished, reason);
    }

    private IReadOnlyList<string> Reasons(PipelineConfig pipeline, CombinationConfig combination, string data = "data-before",
        string weights = "weights-1", string code = "code-1") =>
        StatusJob.Explain(store, Plan(pipeline, combination, data, weights, code), Listings).Reasons;

    private void RecordSubmission(params EnsembleMemberRecord[] members)
    {
        File.WriteAllText(Path.Combine(store.PipelineDirectory, EnsembleJob.SubmissionFileName), "image_id,label\n");
        new EnsembleRecord(members).Write(store.PipelineDirectory);
    }

    [Fact]
    public void Up_to_date_when_nothing_changed()
    {
        Assert.Equal(["up to date"], Reasons(Pipeline, Combination));
    }

    [Fact]
    public void Names_each_changed_config_field_with_its_old_and_new_value()
    {
        var changed = Combination with { Training = Combination.Training with { Epochs = 5, Lr = 0.002 } };
        Assert.Equal(["combination.training.epochs: 12 -> 5", "combination.training.lr: 0.01 -> 0.002"], Reasons(Pipeline, changed));
        Assert.Equal(["seed: 42 -> 7"], Reasons(Pipeline with { Seed = 7 }, Combination));
        Assert.Equal(["valid_pct: 0.2 -> 0.25"], Reasons(Pipeline with { Data = Pipeline.Data with { ValidPct = 0.25 } }, Combination));
    }

    [Fact]
    public void Names_the_data_files_added_removed_and_changed()
    {
        Assert.Equal(
        [
            "data: 1 file(s) added: train_images/x/3.png",
            "data: 1 file(s) removed: train_images/x/2.png",
            "data: 1 file(s) changed: train_images/x/1.png",
        ], Reasons(Pipeline, Combination, data: "data-after"));
        Assert.StartsWith("the data changed (listing sha256 data-before -> data-unknown; the earlier file list was not kept",
            Assert.Single(Reasons(Pipeline, Combination, data: "data-unknown")));
    }

    [Fact]
    public void Names_a_changed_weights_file_and_changed_code()
    {
        Assert.Equal(["the weights file changed (sha256 weights-1 -> weights-2)"], Reasons(Pipeline, Combination, weights: "weights-2"));
        Assert.Equal(["the training code changed (library identity code-1 -> code-2)"], Reasons(Pipeline, Combination, code: "code-2"));
    }

    [Fact]
    public void Reports_a_missing_artifact_and_a_tampered_file()
    {
        var other = Combination with { Size = new ImageSize(32, 32) };
        Assert.Equal(["no artifact yet"], Reasons(Pipeline, other));
        File.WriteAllText(Path.Combine(store.PathOf(Combination.Slug), ArtifactFiles.TestProbabilities), "q");
        Assert.Equal([$"{ArtifactFiles.TestProbabilities} does not match the hash in its manifest"], Reasons(Pipeline, Combination));
    }

    [Fact]
    public void The_ensemble_is_stale_without_a_submission_and_up_to_date_when_made_from_the_current_artifacts_and_weights()
    {
        var plan = Plan(Pipeline, Combination);
        Assert.Equal(["no submission yet"], StatusJob.ExplainEnsemble(store, [(plan, 1)]).Reasons);
        RecordSubmission(new EnsembleMemberRecord(Combination.TaskName, plan.Fingerprint, 1));
        var status = StatusJob.ExplainEnsemble(store, [(plan, 1)]);
        Assert.True(status.UpToDate);
        Assert.Equal(["up to date"], status.Reasons);
    }

    [Fact]
    public void Says_why_the_ensemble_is_stale_weight_member_to_train_retrained_added_or_removed()
    {
        var plan = Plan(Pipeline, Combination);
        var task = Combination.TaskName;
        RecordSubmission(new EnsembleMemberRecord(task, plan.Fingerprint, 1));
        Assert.Equal([$"{task}: ensemble_weight 1 -> 2"], StatusJob.ExplainEnsemble(store, [(plan, 2)]).Reasons);
        Assert.Equal([$"{task} would train first"], StatusJob.ExplainEnsemble(store, [(Plan(Pipeline, Combination, code: "code-2"), 1)]).Reasons);

        RecordSubmission(new EnsembleMemberRecord(task, "an-earlier-fingerprint", 1), new EnsembleMemberRecord("Train:vit:old", "f", 1));
        Assert.Equal([$"{task} was retrained since the submission was made", "Train:vit:old is no longer in the pipeline"],
            StatusJob.ExplainEnsemble(store, [(plan, 1)]).Reasons);

        RecordSubmission(new EnsembleMemberRecord("Train:vit:old", "f", 1));
        Assert.Equal([$"{task} was not in the submission", "Train:vit:old is no longer in the pipeline"],
            StatusJob.ExplainEnsemble(store, [(plan, 1)]).Reasons);
    }

    [Theory]
    [InlineData("{\"members\": [{\"task\": \"Train:a\", \"fingerpr")]
    [InlineData("")]
    [InlineData("null")]
    public void A_damaged_ensemble_record_is_an_error_naming_the_file_and_the_fix_not_no_submission_yet(string damaged)
    {
        RecordSubmission(new EnsembleMemberRecord(Combination.TaskName, "f", 1));
        var path = Path.Combine(store.PipelineDirectory, EnsembleRecord.FileName);
        File.WriteAllText(path, damaged);
        var e = Assert.Throws<InvalidDataException>(() => StatusJob.ExplainEnsemble(store, [(Plan(Pipeline, Combination), 1)]));
        Assert.StartsWith($"{path} is damaged (", e.Message);
        Assert.EndsWith("Delete it; --target=Ensemble (or Submit) writes it again from the finished models.", e.Message);
    }

    [Fact]
    public void A_truncated_manifest_is_reported_with_its_path_and_the_fix()
    {
        var path = Path.Combine(store.PathOf(Combination.Slug), ArtifactManifest.FileName);
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.Length / 2)]);
        var reason = Assert.Single(Reasons(Pipeline, Combination));
        Assert.StartsWith($"{path} is not a valid artifact manifest (", reason);
        Assert.EndsWith("Delete its folder to retrain it.", reason);
    }

    [Fact]
    public void Status_of_a_task_without_a_remembered_probe_names_it_and_leaves_the_ensemble_undecided()
    {
        var auto = Combination with { Training = Combination.Training with { Accum = TrainingSettings.AutoAccum } };
        var undecided = new TrainDecision(auto, null, TrainAction.Undecided, "accum: auto has no remembered memory probe");
        var planned = Plan(Pipeline, Combination);
        var decided = new TrainDecision(Combination, planned, TrainAction.UpToDate, "up to date");
        var (tasks, ensemble) = StatusJob.ExplainRun(store, [(decided, 1), (undecided, 1)], Listings);
        Assert.Equal([true, false], tasks.Select(t => t.UpToDate));
        Assert.Equal(["accum: auto has no remembered memory probe"], tasks[1].Reasons);
        Assert.False(ensemble.UpToDate);
        Assert.Equal([$"whether submission.csv is current cannot be said until {auto.TaskName} has a remembered memory probe"], ensemble.Reasons);
    }
}
