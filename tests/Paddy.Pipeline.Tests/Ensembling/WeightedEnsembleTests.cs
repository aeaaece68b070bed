using Paddy.Pipeline.Ensembling;
using Paddy.Pipeline.Jobs;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Ensembling;

public sealed class WeightedEnsembleTests
{
    [Fact]
    public void Combine_is_the_weighted_mean_so_a_weight_of_two_counts_a_model_twice()
    {
        using var a = tensor(new float[] { 0.9f, 0.1f, 0.2f, 0.8f }).reshape(2, 2);
        using var b = tensor(new float[] { 0.3f, 0.7f, 0.6f, 0.4f }).reshape(2, 2);
        using var combined = WeightedEnsemble.Combine([new("a", a, 1), new("b", b, 2)]);
        using var twice = WeightedEnsemble.Combine([new("a", a, 1), new("b", b, 1), new("b again", b, 1)]);
        var expected = new[] { (0.9f + 2 * 0.3f) / 3, (0.1f + 2 * 0.7f) / 3, (0.2f + 2 * 0.6f) / 3, (0.8f + 2 * 0.4f) / 3 };
        Assert.Equal(expected, combined.data<float>().ToArray(), new FloatTolerance(1e-6f));
        Assert.Equal(combined.data<float>().ToArray(), twice.data<float>().ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void Mismatched_shapes_name_the_member()
    {
        using var a = zeros(2, 3);
        using var b = zeros(3, 3);
        var e = Assert.Throws<InvalidDataException>(() => WeightedEnsemble.Combine([new("a", a, 1), new("b", b, 1)]));
        Assert.StartsWith("b has probabilities of shape [3,3] but a has [2,3]", e.Message);
    }

    [Fact]
    public void Error_rate_counts_rows_whose_argmax_is_not_the_target()
    {
        using var probabilities = tensor(new float[] { 0.9f, 0.1f, 0.4f, 0.6f, 0.7f, 0.3f, 0.2f, 0.8f }).reshape(4, 2);
        using var targets = tensor(new long[] { 0, 0, 0, 1 });
        Assert.Equal(0.25, WeightedEnsemble.ErrorRate(probabilities, targets));
    }

    [Fact]
    public void Submission_has_one_row_per_sample_submission_row_in_its_order()
    {
        using var directory = new TestDirectory();
        var path = Path.Combine(directory.Path, "submission.csv");
        EnsembleJob.WriteSubmission(path, ["200003.jpg", "200001.jpg", "200002.jpg"], ["blast", "normal", "hispa"]);
        Assert.Equal("image_id,label\n200003.jpg,blast\n200001.jpg,normal\n200002.jpg,hispa\n", File.ReadAllText(path).Replace("\r\n", "\n"));
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float value) => 0;
    }
}
