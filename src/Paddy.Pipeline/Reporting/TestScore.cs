using Paddy.Pipeline.Data;

namespace Paddy.Pipeline.Reporting;

/// <summary>One set of test predictions (the submission, or one model's TTA predictions) scored against known labels.</summary>
public sealed record ScoredPredictions(string Name, ConfusionMatrix Matrix)
{
    public double Accuracy => (double)Matrix.Correct / Matrix.Total;
}

/// <summary>
/// Known labels for test images (a Kaggle-style solution file: image_id,label), and scoring predictions against them.
/// Every image the solution lists must have been predicted; predictions for unlisted images are not scored.
/// </summary>
public sealed class TestSolution
{
    private readonly IReadOnlyList<(int Line, string ImageId, int Label)> rows;

    private TestSolution(string path, IReadOnlyList<(int, string, int)> rows)
    {
        Path = path;
        this.rows = rows;
    }

    public string Path { get; }

    public int Count => rows.Count;

    /// <summary>
    /// Reads <paramref name="path"/> for the classes <paramref name="vocab"/> and test images <paramref name="predictedIds"/>;
    /// every problem (a missing column, an empty value, a repeated image, an unknown label, an image that was not
    /// predicted) is listed in one <see cref="InvalidDataException"/>, each with its line and the fix.
    /// </summary>
    public static TestSolution Read(string path, IReadOnlyList<string> vocab, IReadOnlyCollection<string> predictedIds)
    {
        if (!File.Exists(path))
            throw new InvalidDataException($"{path}: the solution file does not exist; pass --solution=<csv with image_id,label> naming a file that does.");
        var errors = new List<string>();
        var classOf = vocab.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i, StringComparer.Ordinal);
        var predicted = predictedIds.ToHashSet(StringComparer.Ordinal);
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = new List<(int, string, int)>();
        foreach (var (line, values) in CsvRows.Read(path, ["image_id", "label"], required: 2, errors))
        {
            var (imageId, label) = (values[0], values[1]);
            if (firstLine.TryGetValue(imageId, out var first))
                errors.Add($"{path}, line {line}: {imageId} is already labelled on line {first}; keep one line per image.");
            else if (!classOf.TryGetValue(label, out var index))
                errors.Add($"{path}, line {line}: the label '{label}' is not one of the trained classes ({string.Join(", ", vocab)}); correct the label.");
            else if (!predicted.Contains(imageId))
                errors.Add($"{path}, line {line}: {imageId} is not among the {predicted.Count} predicted test images; remove the line, or use the solution of this test set.");
            else
                rows.Add((line, imageId, index));
            firstLine.TryAdd(imageId, line);
        }
        if (errors.Count == 0 && rows.Count == 0) errors.Add($"{path}: no labelled images; expected image_id,label rows.");
        if (errors.Count > 0)
            throw new InvalidDataException($"The solution {path} cannot be used to score ({errors.Count} problem(s)):{Environment.NewLine}"
                                           + string.Join(Environment.NewLine, errors.Select(e => "  " + e)));
        return new TestSolution(path, rows);
    }

    /// <summary>Scores predicted labels (class indices, one per image of <paramref name="ids"/>) on the solution's images.</summary>
    public ScoredPredictions Score(string name, IReadOnlyList<string> ids, IReadOnlyList<int> predictedClasses, int classes)
    {
        var position = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        return new ScoredPredictions(name, ConfusionMatrix.FromLabels(
            rows.Select(r => r.Label).ToList(), rows.Select(r => predictedClasses[position[r.ImageId]]).ToList(), classes));
    }
}
