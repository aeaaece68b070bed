using Paddy.Pipeline.Config;
using Paddy.Pipeline.Data;
using Paddy.Pipeline.Jobs;

namespace Paddy.Pipeline.Tests.Data;

public class RandomSplitTests
{
    [Theory]
    [InlineData(10, 0.2, 2)]
    [InlineData(10407, 0.2, 2081)] // int(0.2 * 10407) = int(2081.4)
    [InlineData(7, 0.5, 3)]
    public void Validation_is_int_pct_times_n_and_the_parts_partition_the_items(int count, double pct, int expectedValid)
    {
        var (train, valid) = RandomSplit.Split(count, pct, seed: 42);
        Assert.Equal(expectedValid, valid.Length);
        Assert.Equal(count - expectedValid, train.Length);
        Assert.Empty(train.Intersect(valid));
        Assert.Equal(Enumerable.Range(0, count), train.Concat(valid).Order());
    }

    [Fact]
    public void Same_seed_same_split_other_seed_other_split()
    {
        var first = RandomSplit.Split(100, 0.2, seed: 7);
        var again = RandomSplit.Split(100, 0.2, seed: 7);
        var other = RandomSplit.Split(100, 0.2, seed: 8);
        Assert.Equal(first.Valid, again.Valid);
        Assert.Equal(first.Train, again.Train);
        Assert.NotEqual(first.Valid.Order(), other.Valid.Order());
    }

    private static readonly CombinationConfig[] Combinations = new[] { "convnext_atto", "vit_tiny_patch16_224", "swin_tiny_patch4_window7_224" }
        .Select(arch => new CombinationConfig(arch, "none", new ItemResize(new ImageSize(64, 64), ResizeMethod.Squish), new ImageSize(64, 64), 1,
            new TrainingSettings(1, 1, 0.01, 64, 1, Precision.Fp32, new TtaSettings(0, 0.25))))
        .ToArray();

    private static (int[] Train, int[] Valid)[] SplitsOfEveryModel(DataSplit split) => Combinations
        .Select(c => RandomSplit.For(new DataSettings("/data", 0.2, false, split), 1000, pipelineSeed: 42, TrainJob.CombinationSeed(42, c)))
        .ToArray();

    [Fact]
    public void Shared_split_holds_out_the_same_images_for_every_model_disjoint_from_training()
    {
        var splits = SplitsOfEveryModel(DataSplit.Shared);
        foreach (var (train, valid) in splits)
        {
            Assert.Equal(splits[0].Valid, valid);
            Assert.Equal(splits[0].Train, train);
            Assert.Equal(200, valid.Length);
            Assert.Empty(train.Intersect(valid));
            Assert.Equal(Enumerable.Range(0, 1000), train.Concat(valid).Order());
        }
        Assert.Equal(RandomSplit.Split(1000, 0.2, seed: 42).Valid, splits[0].Valid);
    }

    [Fact]
    public void Per_model_split_draws_each_models_own_so_few_images_are_common_to_all()
    {
        var splits = SplitsOfEveryModel(DataSplit.PerModel);
        Assert.Equal(3, splits.Select(s => string.Join(',', s.Valid.Order())).Distinct().Count());
        var common = splits.Select(s => s.Valid.AsEnumerable()).Aggregate((a, b) => a.Intersect(b)).Count();
        Assert.InRange(common, 0, 30); // 0.2^3 of 1000 = 8 expected
    }
}
