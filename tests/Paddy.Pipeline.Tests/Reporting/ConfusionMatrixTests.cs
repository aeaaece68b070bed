using Paddy.Pipeline.Reporting;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Reporting;

public sealed class ConfusionMatrixTests
{
    [Fact]
    public void Counts_true_rows_against_predicted_columns_and_gives_per_class_error()
    {
        // Five images of three classes; predictions are the argmax of each row.
        using var probabilities = tensor(new float[]
        {
            0.8f, 0.1f, 0.1f, // true 0, predicted 0
            0.2f, 0.7f, 0.1f, // true 0, predicted 1
            0.1f, 0.8f, 0.1f, // true 1, predicted 1
            0.1f, 0.2f, 0.7f, // true 1, predicted 2
            0.3f, 0.3f, 0.4f, // true 1, predicted 2
        }).reshape(5, 3);
        using var targets = tensor(new long[] { 0, 0, 1, 1, 1 });
        var matrix = ConfusionMatrix.From(probabilities, targets, classes: 3);
        Assert.Equal(new[,] { { 1, 1, 0 }, { 0, 1, 2 }, { 0, 0, 0 } }, matrix.Counts);
        Assert.Equal(5, matrix.Total);
        Assert.Equal(2, matrix.Correct);
        Assert.Equal(0.6, matrix.ErrorRate, 12);
        Assert.Equal(0.5, matrix.PerClassError[0], 12);
        Assert.Equal(2.0 / 3, matrix.PerClassError[1], 12);
        Assert.True(double.IsNaN(matrix.PerClassError[2]));
    }
}
