using Paddy.Pipeline.Data;

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
}
