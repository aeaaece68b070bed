using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Jobs;
using Paddy.Pipeline.Reporting;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Jobs;

public sealed class ScoreJobTests : IDisposable
{
    private static readonly string[] Vocab = ["bag", "coat", "shirt"];
    private readonly TestDirectory directory = new();
    private readonly ArtifactStore store;

    public ScoreJobTests()
    {
        store = new ArtifactStore(Path.Combine(directory.Path, "demo"));
        store.Commit("model", folder =>
        {
            // argmax per row: coat, bag, coat, shirt, shirt, shirt, bag
            using var probabilities = tensor(new float[]
            {
                0.2f, 0.7f, 0.1f,  0.6f, 0.3f, 0.1f,  0.1f, 0.5f, 0.4f,  0.1f, 0.2f, 0.7f,
                0.3f, 0.3f, 0.4f,  0.0f, 0.1f, 0.9f,  0.8f, 0.1f, 0.1f,
            }).reshape(7, 3);
            SafeTensors.Save(Path.Combine(folder, ArtifactFiles.TestProbabilities), [new(ArtifactFiles.ProbabilitiesKey, probabilities)]);
            return new ArtifactManifest
            {
                Task = "Train:model", Fingerprint = "f", FingerprintInputs = new(), Vocab = Vocab, ValidError = 0, ValidLoss = 0,
                ValidCount = 0, TestIds = ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png", "g.png"], Device = "cpu", Precision = "fp32", TrainSeconds = 1,
            };
        });
        File.WriteAllText(Path.Combine(store.PipelineDirectory, "submission.csv"),
            "image_id,label\na.png,bag\nb.png,coat\nc.png,coat\nd.png,coat\ne.png,bag\nf.png,shirt\ng.png,bag\n");
    }

    public void Dispose() => directory.Dispose();

    private IReadOnlyList<ReportedModel> Models => [new("Train:model", "model", 1,
        ArtifactManifest.Read(Path.Combine(store.PathOf("model"), ArtifactManifest.FileName)))];

    private string Solution(string text)
    {
        var path = Path.Combine(directory.Path, "solution.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Scores_the_submission_and_each_model_on_the_images_the_solution_labels()
    {
        // g.png has no known label and is not scored; the solution's order differs from the submission's.
        var score = ScoreJob.Run(store, Models, Solution("image_id,label\nf.png,shirt\na.png,bag\nb.png,bag\nc.png,coat\nd.png,coat\ne.png,shirt\n"));

        // Submission: a, c, d, f right; b (bag as coat) and e (shirt as bag) wrong.
        Assert.Equal(4.0 / 6, score.Submission.Accuracy, 12);
        Assert.Equal(new[,] { { 1, 1, 0 }, { 0, 2, 0 }, { 1, 0, 1 } }, score.Submission.Matrix.Counts);
        Assert.Equal([0.5, 0.0, 0.5], score.Submission.Matrix.PerClassError);
        // The model's argmax: a coat, b bag, c coat, d shirt, e shirt, f shirt: b, c, e, f right.
        var model = Assert.Single(score.Models);
        Assert.Equal("Train:model", model.Name);
        Assert.Equal(4.0 / 6, model.Accuracy, 12);
        Assert.Equal(new[,] { { 1, 1, 0 }, { 0, 1, 1 }, { 0, 0, 2 } }, model.Matrix.Counts);

        RunReport.Write(store, "demo", [], new EnsembleResult([], 0, null, null, "s.csv", 7), score);
        var markdown = File.ReadAllText(Path.Combine(store.PipelineDirectory, "report", "report.md"));
        Assert.Contains("| submission.csv | 66.67 % | 33.33 % (95% CI 9.68 %-70.00 %, 6 images) |", markdown);
        Assert.Contains("| shirt | 2 | 50.00 % | 0.00 % |", markdown);
        Assert.Contains("| shirt | 1 | 0 | 1 |", markdown);
    }

    [Fact]
    public void Every_problem_of_a_bad_solution_is_listed_with_its_line_and_fix()
    {
        var path = Solution("image_id,label\na.png,bag\na.png,coat\nb.png,sock\nz.png,bag\nc.png,\n");
        var error = Assert.Throws<InvalidDataException>(() => ScoreJob.Run(store, Models, path));
        Assert.Contains("(4 problem(s))", error.Message);
        Assert.Contains($"{path}, line 3: a.png is already labelled on line 2", error.Message);
        Assert.Contains($"{path}, line 4: the label 'sock' is not one of the trained classes (bag, coat, shirt)", error.Message);
        Assert.Contains($"{path}, line 5: z.png is not among the 7 predicted test images", error.Message);
        Assert.Contains($"{path}, line 6: empty image_id or label", error.Message);

        var header = Assert.Throws<InvalidDataException>(() => ScoreJob.Run(store, Models, Solution("id,class\na.png,bag\n")));
        Assert.Contains("line 1: the header must contain the columns image_id, label", header.Message);
    }

    [Fact]
    public void The_default_solution_is_the_data_folders_solution_csv_beside_sample_submission()
    {
        Assert.Equal(Path.Combine(RepositoryRoot.Path, "samples", "fashion-mnist", "solution.csv"),
            ScoreJob.DefaultSolution(Path.Combine(RepositoryRoot.Path, "samples", "fashion-mnist")));
        Assert.Null(ScoreJob.DefaultSolution(directory.Path));
    }
}
