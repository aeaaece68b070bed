using Paddy.Pipeline.Artifacts;
using Paddy.Pipeline.Data;
using Paddy.Pipeline.IO;
using Paddy.Pipeline.Reporting;

namespace Paddy.Pipeline.Jobs;

/// <summary>The submission and each model's TTA test predictions scored against the same known labels.</summary>
public sealed record ScoreResult(string SolutionPath, IReadOnlyList<string> Vocab, ScoredPredictions Submission, IReadOnlyList<ScoredPredictions> Models);

/// <summary>
/// The Score target: submission.csv and every model's TTA test probabilities (argmax) against a solution file with
/// image_id,label, giving accuracy, per-class error and the confusion matrix of each.
/// </summary>
public static class ScoreJob
{
    public const string SolutionFileName = "solution.csv";

    /// <summary>The data folder's solution.csv when it sits beside sample_submission.csv (the demo's), else null.</summary>
    public static string? DefaultSolution(string dataRoot)
    {
        var path = Path.Combine(dataRoot, SolutionFileName);
        return File.Exists(path) && File.Exists(Path.Combine(dataRoot, ImageDataset.SampleSubmissionCsv)) ? path : null;
    }

    public static ScoreResult Run(ArtifactStore store, IReadOnlyList<ReportedModel> models, string solutionPath)
    {
        if (models.Count == 0) throw new ArgumentException("The pipeline has no models to score.", nameof(models));
        var vocab = models[0].Manifest.Vocab;
        var (ids, predicted) = ReadSubmission(Path.Combine(store.PipelineDirectory, EnsembleJob.SubmissionFileName), vocab);
        var solution = TestSolution.Read(solutionPath, vocab, ids);
        var scoredModels = models.Select(model =>
        {
            using var file = SafeTensors.Load(Path.Combine(store.PathOf(model.Slug), ArtifactFiles.TestProbabilities));
            using var classes = file[ArtifactFiles.ProbabilitiesKey].argmax(1);
            return solution.Score(model.Task, model.Manifest.TestIds, classes.data<long>().Select(c => (int)c).ToList(), vocab.Count);
        }).ToList();
        return new ScoreResult(solutionPath, vocab, solution.Score(EnsembleJob.SubmissionFileName, ids, predicted, vocab.Count), scoredModels);
    }

    private static (List<string> Ids, List<int> Classes) ReadSubmission(string path, IReadOnlyList<string> vocab)
    {
        if (!File.Exists(path)) throw new InvalidOperationException($"{path} does not exist yet; run the Submit target first.");
        var errors = new List<string>();
        var classOf = vocab.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i, StringComparer.Ordinal);
        var (ids, classes) = (new List<string>(), new List<int>());
        foreach (var (line, values) in CsvRows.Read(path, ["image_id", "label"], required: 2, errors))
        {
            if (!classOf.TryGetValue(values[1], out var index))
                errors.Add($"{path}, line {line}: the label '{values[1]}' is not a trained class; the file was edited, run the Ensemble target to write it again.");
            ids.Add(values[0]);
            classes.Add(index);
        }
        if (errors.Count > 0) throw new InvalidDataException(string.Join(Environment.NewLine, errors));
        return (ids, classes);
    }
}
