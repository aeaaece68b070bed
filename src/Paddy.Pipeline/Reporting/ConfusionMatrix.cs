using static TorchSharp.torch;

namespace Paddy.Pipeline.Reporting;

/// <summary>Counts of (true class, predicted class) on a set of labelled images, and the per-class error they imply.</summary>
public sealed class ConfusionMatrix
{
    private ConfusionMatrix(int[,] counts) => Counts = counts;

    /// <summary>Rows are true classes, columns predicted classes.</summary>
    public int[,] Counts { get; }

    public int Classes => Counts.GetLength(0);

    public int Total => Counts.Cast<int>().Sum();

    public int Correct => Enumerable.Range(0, Classes).Sum(c => Counts[c, c]);

    public double ErrorRate => Total == 0 ? double.NaN : 1.0 - (double)Correct / Total;

    /// <summary>For each true class, the fraction of its images predicted as another class (NaN when it has none).</summary>
    public IReadOnlyList<double> PerClassError => Enumerable.Range(0, Classes).Select(c =>
    {
        var row = Enumerable.Range(0, Classes).Sum(p => Counts[c, p]);
        return row == 0 ? double.NaN : 1.0 - (double)Counts[c, c] / row;
    }).ToList();

    public static ConfusionMatrix From(Tensor probabilities, Tensor targets, int classes)
    {
        using var scope = NewDisposeScope();
        return FromLabels(targets.data<long>().Select(t => (int)t).ToList(),
            probabilities.argmax(1).data<long>().Select(p => (int)p).ToList(), classes);
    }

    /// <summary>From class indices: the true class and the predicted class of each image.</summary>
    public static ConfusionMatrix FromLabels(IReadOnlyList<int> actual, IReadOnlyList<int> predicted, int classes)
    {
        var counts = new int[classes, classes];
        for (int i = 0; i < actual.Count; i++) counts[actual[i], predicted[i]]++;
        return new ConfusionMatrix(counts);
    }
}
