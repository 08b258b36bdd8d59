namespace LowRankBias.Torch.Tests;

/// <summary>
/// normal, bernoulli and multinomial draw from the documented distributions. Seeded (so deterministic) and with
/// bounds of five standard errors, so a wrong distribution fails while a correct one cannot flake.
/// </summary>
[Collection(SerialCollection.Name)]
public class RandomTests
{
    private const int Samples = 20000;

    private static void AssertMeanAndStd(double[] values, double mean, double std)
    {
        double sampleMean = values.Average();
        double sampleStd = Math.Sqrt(values.Sum(v => (v - sampleMean) * (v - sampleMean)) / (values.Length - 1));
        Assert.InRange(sampleMean, mean - 5 * std / Math.Sqrt(values.Length), mean + 5 * std / Math.Sqrt(values.Length));
        // The sample standard deviation of normal data has standard error σ/√(2n).
        Assert.InRange(sampleStd, std * (1 - 5 / Math.Sqrt(2.0 * values.Length)), std * (1 + 5 / Math.Sqrt(2.0 * values.Length)));
    }

    [Fact]
    public void NormalOfAGivenShapeHasTheRequestedMoments()
    {
        using DisposeScope scope = NewDisposeScope();
        manual_seed(1);
        Tensor x = normal(3, 0.5, [Samples / 100, 100], ScalarType.Float64);
        Assert.Equal([Samples / 100L, 100], x.shape);
        AssertMeanAndStd(x.ToArray<double>(), 3, 0.5);
    }

    [Fact]
    public void NormalWithTensorParametersSamplesEachElementFromItsOwnDistribution()
    {
        using DisposeScope scope = NewDisposeScope();
        manual_seed(2);
        Tensor mean = tensor(new double[] { -10, 10 }).repeat(Samples / 2);
        Tensor std = tensor(new double[] { 0.1, 3 }).repeat(Samples / 2);
        double[] x = normal(mean, std).ToArray<double>();
        AssertMeanAndStd(x.Where((_, i) => i % 2 == 0).ToArray(), -10, 0.1);
        AssertMeanAndStd(x.Where((_, i) => i % 2 == 1).ToArray(), 10, 3);
        AssertMeanAndStd(normal(mean, 2.0).ToArray<double>().Where((_, i) => i % 2 == 1).ToArray(), 10, 2);
    }

    [Fact]
    public void BernoulliDrawsOnesWithTheGivenProbabilities()
    {
        using DisposeScope scope = NewDisposeScope();
        manual_seed(3);
        double[] p = [0, 1, 0.3];
        double[] x = bernoulli(tensor(p).repeat(Samples)).ToArray<double>();
        Assert.All(x, v => Assert.True(v is 0 or 1));
        for (int k = 0; k < 3; k++)
        {
            double frequency = x.Where((_, i) => i % 3 == k).Average();
            double bound = 5 * Math.Sqrt(p[k] * (1 - p[k]) / Samples);
            Assert.InRange(frequency, p[k] - bound, p[k] + bound);
        }
        double fixedP = bernoulli(zeros([Samples], ScalarType.Float64), 0.8).ToArray<double>().Average();
        Assert.InRange(fixedP, 0.8 - 5 * Math.Sqrt(0.16 / Samples), 0.8 + 5 * Math.Sqrt(0.16 / Samples));
    }

    [Fact]
    public void MultinomialWithoutReplacementDrawsDistinctPossibleCategories()
    {
        using DisposeScope scope = NewDisposeScope();
        manual_seed(4);
        // One draw of two categories per row, from the categories of non-zero weight.
        Tensor weights = tensor(new double[] { 0, 1, 2, 3, 4, 0, 0, 1 }, [2, 4]);
        for (int trial = 0; trial < 50; trial++)
        {
            long[] draws = multinomial(weights, 2).ToArray<long>();
            Assert.NotEqual(draws[0], draws[1]);
            Assert.All(draws[..2], d => Assert.Contains(d, new long[] { 1, 2, 3 }));
            Assert.Equal([0L, 3], draws[2..].Order());
        }
    }

    [Fact]
    public void MultinomialWithReplacementFollowsTheWeights()
    {
        using DisposeScope scope = NewDisposeScope();
        manual_seed(5);
        double[] weights = [1, 0, 3, 4];
        long[] draws = multinomial(tensor(weights), Samples, replacement: true).ToArray<long>();
        for (int k = 0; k < 4; k++)
        {
            double p = weights[k] / weights.Sum(), frequency = draws.Count(d => d == k) / (double)Samples;
            double bound = 5 * Math.Sqrt(p * (1 - p) / Samples);
            Assert.InRange(frequency, p - bound, p + bound);
        }
    }
}
