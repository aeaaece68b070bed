using Paddy.Pipeline.Data;
using Paddy.Pipeline.Inference;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Inference;

public class TtaTests
{
    /// <summary>Yields fixed "images" per epoch; with an identity model they are the logits.</summary>
    private sealed class FixedLoader(Func<int, float[,]> logitsOfEpoch, int batchSize) : IBatchLoader
    {
        public int ItemCount => logitsOfEpoch(0).GetLength(0);
        public int BatchSize => batchSize;
        public int BatchesPerEpoch => (ItemCount + batchSize - 1) / batchSize;

        public IEnumerable<Batch> Epoch(int epoch)
        {
            using var all = tensor(logitsOfEpoch(epoch));
            for (var start = 0; start < ItemCount; start += batchSize)
            {
                var length = Math.Min(batchSize, ItemCount - start);
                yield return new Batch(all.slice(0, start, start + length, 1).clone(), zeros(length, dtype: ScalarType.Int64));
            }
        }
    }

    /// <summary>An identity model's probabilities for one pass: the softmax of the loader's "images".</summary>
    private static Tensor SoftmaxOfImages(IBatchLoader loader, int pass) =>
        cat(loader.Epoch(pass).Select(b => b.Images).ToList(), 0).softmax(1);

    private static double[] Softmax(params double[] z)
    {
        var e = z.Select(Math.Exp).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }

    [Fact]
    public void Four_augmented_passes_averaged_then_lerped_towards_the_plain_pass_by_beta()
    {
        // Two items, two classes; augmented pass i gives item logits (i, 0) and (0, -i); plain gives (1, 2) and (0, 0).
        var augmented = new FixedLoader(pass => new float[,] { { pass, 0 }, { 0, -pass } }, batchSize: 1);
        var plain = new FixedLoader(_ => new float[,] { { 1, 2 }, { 0, 0 } }, batchSize: 1);
        using var result = Tta.Predict(SoftmaxOfImages, plain, augmented);

        for (var item = 0; item < 2; item++)
        {
            var mean = new double[2];
            for (var pass = 0; pass < 4; pass++)
            {
                var p = item == 0 ? Softmax(pass, 0) : Softmax(0, -pass);
                for (var c = 0; c < 2; c++) mean[c] += p[c] / 4;
            }
            var plainP = item == 0 ? Softmax(1, 2) : Softmax(0, 0);
            for (var c = 0; c < 2; c++)
                Assert.Equal(0.75 * mean[c] + 0.25 * plainP[c], result[item, c].item<float>(), 5);
        }
        Assert.Equal(ScalarType.Float32, result.dtype);
        Assert.Equal([2L, 2], result.shape);
    }

    [Fact]
    public void Beta_one_is_the_plain_pass_and_beta_zero_the_augmented_mean()
    {
        using var aug = tensor(new[] { 0.2f, 0.8f });
        using var plainP = tensor(new[] { 0.6f, 0.4f });
        Assert.Equal([0.6f, 0.4f], Tta.Combine(aug, plainP, 1).data<float>().ToArray());
        Assert.Equal([0.2f, 0.8f], Tta.Combine(aug, plainP, 0).data<float>().ToArray());
    }

    [Fact]
    public void Loaders_of_different_lengths_are_refused()
    {
        var three = new FixedLoader(_ => new float[3, 2], 2);
        var two = new FixedLoader(_ => new float[2, 2], 2);
        Assert.Throws<ArgumentException>(() => Tta.Predict(SoftmaxOfImages, three, two));
    }
}
