namespace LowRankBias.Torch.Tests.Init;

/// <summary>Sample mean and variance with their standard errors, estimated from the sample itself, so tolerances
/// scale with the sample size: SE(mean) = s/√n, SE(variance) = √((m₄ − s⁴)/n).</summary>
internal sealed record SampleStats(double Mean, double Variance, double MeanError, double VarianceError)
{
    public static SampleStats Of(Tensor t)
    {
        using Tensor d = t.to(ScalarType.Float64);
        double[] x = d.ToArray<double>();
        int n = x.Length;
        double mean = x.Average();
        double m2 = x.Sum(v => (v - mean) * (v - mean)) / n;
        double m4 = x.Sum(v => Math.Pow(v - mean, 4)) / n;
        return new SampleStats(mean, m2, Math.Sqrt(m2 / n), Math.Sqrt((m4 - m2 * m2) / n));
    }

    /// <summary>Asserts mean and variance within six standard errors of the expected values.</summary>
    public void AssertMatches(double expectedMean, double expectedVariance)
    {
        Assert.InRange(Mean, expectedMean - 6 * MeanError, expectedMean + 6 * MeanError);
        Assert.InRange(Variance, expectedVariance - 6 * VarianceError, expectedVariance + 6 * VarianceError);
    }
}
