using LowRankBias.Torch.Data;
using static LowRankBias.Torch.Tests.Data.NumberedDataset;

namespace LowRankBias.Torch.Tests.Data;

public class MultiHeadDataLoaderTests
{
    [Fact]
    public void SplitGivesEachHeadADisjointShareOfOneCumulativeBatch()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Create(24);
        var loader = new MultiHeadDataLoader(data, heads: 3, HeadSampling.Split, batch_size: 2, shuffle: true, seed: 1);
        var single = new DataLoader(data, batch_size: 6, shuffle: true, seed: 1);
        Assert.Equal(4, loader.Count);
        var seen = new List<long>();
        foreach (Tensor[][] step in loader)
        {
            long[][] heads = step.Select(Ids).ToArray();
            Assert.All(heads, h => Assert.Equal(2, h.Length));
            long[] cumulative = heads.SelectMany(h => h).ToArray();
            Assert.Equal(Ids(single.Next()), cumulative); // the cumulative batch is the one-head loader's batch
            seen.AddRange(cumulative);
        }
        Assert.Equal(Range(24), seen.Order());
    }

    [Fact]
    public void SplitSpreadsAShortLastBatchEvenly()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Create(11);
        var loader = new MultiHeadDataLoader(data, heads: 2, HeadSampling.Split, batch_size: 4);
        loader.Next();
        Assert.Equal([2, 1], loader.Next().Select(h => Ids(h).Length));
        var e = Assert.Throws<ArgumentException>(() => new MultiHeadDataLoader(data, heads: 4, HeadSampling.Split, batch_size: 2));
        Assert.Contains("3 samples cannot be split among 4 heads", e.Message);
    }

    [Fact]
    public void IndependentHeadsEachSeeTheWholeDatasetInTheirOwnOrder()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Create(24);
        var loader = new MultiHeadDataLoader(data, heads: 3, HeadSampling.Independent, batch_size: 4, shuffle: true, seed: 5);
        Assert.Equal(6, loader.Count);
        var orders = new List<long>[3] { [], [], [] };
        foreach (Tensor[][] step in loader)
            for (int h = 0; h < 3; h++) orders[h].AddRange(Ids(step[h]));
        Assert.All(orders, o => Assert.Equal(Range(24), o.Order()));
        Assert.NotEqual(orders[0], orders[1]);
        Assert.NotEqual(orders[1], orders[2]);
    }

    [Fact]
    public void SameModeHandsEveryHeadTheSameBatch()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Create(24);
        var loader = new MultiHeadDataLoader(data, heads: 4, HeadSampling.Same, batch_size: 5, shuffle: true, seed: 8);
        var single = new DataLoader(data, batch_size: 5, shuffle: true, seed: 8);
        foreach (Tensor[][] step in loader)
        {
            long[] expected = Ids(single.Next());
            Assert.All(step, head => Assert.Equal(expected, Ids(head)));
        }
    }

    [Theory]
    [InlineData(HeadSampling.Split)]
    [InlineData(HeadSampling.Independent)]
    [InlineData(HeadSampling.Same)]
    public void ResumeMatchesAnUninterruptedRun(HeadSampling sampling)
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Create(24);
        MultiHeadDataLoader Make() => new(data, heads: 2, sampling, batch_size: 5, shuffle: true, seed: 77);
        long[][][] Take(MultiHeadDataLoader l, int steps) =>
            Enumerable.Range(0, steps).Select(_ => l.Next().Select(Ids).ToArray()).ToArray();

        long[][][] expected = Take(Make(), 11);
        MultiHeadDataLoader first = Make();
        long[][][] head = Take(first, 4);
        MultiHeadDataLoader second = Make();
        second.load_state_dict(first.state_dict());
        Assert.Equal(expected, head.Concat(Take(second, 7)));
    }
}
