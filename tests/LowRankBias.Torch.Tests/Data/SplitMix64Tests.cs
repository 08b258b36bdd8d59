using LowRankBias.Torch.Data;

namespace LowRankBias.Torch.Tests.Data;

public class SplitMix64Tests
{
    [Fact]
    public void MatchesTheReferenceSequence()
    {
        // Outputs of Vigna's reference splitmix64.c for seed 1234567.
        var rng = new SplitMix64(1234567);
        ulong[] expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        foreach (ulong e in expected) Assert.Equal(e, rng.NextUInt64());
    }

    [Fact]
    public void RestoringTheStateResumesTheStream()
    {
        var rng = new SplitMix64(7);
        rng.NextUInt64();
        ulong saved = rng.State;
        ulong[] ahead = [rng.NextUInt64(), rng.NextUInt64()];
        var resumed = new SplitMix64(0) { State = saved };
        Assert.Equal(ahead, new[] { resumed.NextUInt64(), resumed.NextUInt64() });
    }

    [Fact]
    public void BoundedIntegersAreUniform()
    {
        const int bound = 7, draws = 70_000;
        var rng = new SplitMix64(3);
        var counts = new double[bound];
        for (int i = 0; i < draws; i++) counts[rng.NextInt64(bound)]++;
        double expected = (double)draws / bound;
        double chi2 = counts.Sum(c => (c - expected) * (c - expected) / expected);
        Assert.True(chi2 < MathNet.Numerics.Distributions.ChiSquared.InvCDF(bound - 1, 0.999), $"chi² = {chi2}");
    }

    [Fact]
    public void GaussianSamplesHaveUnitVariance()
    {
        var rng = new SplitMix64(11);
        double[] x = Enumerable.Range(0, 100_000).Select(_ => rng.NextGaussian()).ToArray();
        Assert.InRange(MathNet.Numerics.Statistics.Statistics.Mean(x), -0.02, 0.02);
        Assert.InRange(MathNet.Numerics.Statistics.Statistics.StandardDeviation(x), 0.98, 1.02);
    }

    [Fact]
    public void PermutationHoldsEveryIndexOnce()
    {
        long[] p = new SplitMix64(5).Permutation(1000);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), p.Order());
        Assert.NotEqual(Enumerable.Range(0, 1000).Select(i => (long)i), p);
    }

    [Fact]
    public void DerivedStreamsDifferByKeyAndRepeatBySeed()
    {
        ulong a = SplitMix64.Derive(1, 0, 0).NextUInt64();
        Assert.Equal(a, SplitMix64.Derive(1, 0, 0).NextUInt64());
        Assert.NotEqual(a, SplitMix64.Derive(1, 0, 1).NextUInt64());
        Assert.NotEqual(a, SplitMix64.Derive(1, 1, 0).NextUInt64());
        Assert.NotEqual(a, SplitMix64.Derive(2, 0, 0).NextUInt64());
    }
}
