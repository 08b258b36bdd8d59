using LowRankBias.Spectral;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public class PowerLawFitTests
{
    // Inverse-CDF samples of p(x) ∝ x^(−α), x ≥ xmin.
    private static double[] Pareto(int n, double alpha, double xmin, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => xmin * Math.Pow(1 - random.NextDouble(), -1 / (alpha - 1))).ToArray();
    }

    [Theory]
    [InlineData(2.5)]
    [InlineData(4.0)]
    public void RecoversTheExponentOfAPowerLawTail(double alpha)
    {
        var random = new Random(7);
        // a uniform body below 1 that the fit has to cut off, and a power-law tail above it
        double[] body = Enumerable.Range(0, 500).Select(_ => 0.2 + 0.8 * random.NextDouble()).ToArray();
        double[] samples = body.Concat(Pareto(4000, alpha, 1, seed: 8)).ToArray();
        PowerLawFit fit = PowerLawFit.Fit(samples)!;
        // within three standard errors (α − 1)/√n (Clauset et al. eq. 3.2), with the body cut off
        Assert.InRange(fit.Alpha, alpha - 3 * (alpha - 1) / Math.Sqrt(fit.TailCount), alpha + 3 * (alpha - 1) / Math.Sqrt(fit.TailCount));
        Assert.InRange(fit.XMin, 0.9, 4);
        Assert.True(fit.TailCount >= 400, $"tail of {fit.TailCount}");
    }

    [Theory]
    [InlineData(KsConvention.Powerlaw)]
    [InlineData(KsConvention.TwoSided)]
    public void ChoosesTheXMinWithTheSmallestKsDistanceAndTheMleExponent(KsConvention convention)
    {
        double[] x = Pareto(300, 3, 2, seed: 9).Concat(new[] { 0.5, 0.7, 1.1 }).ToArray();
        PowerLawFit fit = PowerLawFit.Fit(x, minTailCount: 5, convention)!;

        double[] tail = x.Where(v => v >= fit.XMin).ToArray();
        Assert.Equal(tail.Length, fit.TailCount);
        Close(1 + tail.Length / tail.Sum(v => Math.Log(v / fit.XMin)), fit.Alpha, 1e-12, "α = 1 + n / Σ ln(x/xmin)");

        // brute force over every candidate, straight from the definitions
        foreach (double xmin in x.Distinct())
        {
            double[] t = x.Where(v => v >= xmin).Order().ToArray();
            if (t.Length < 5 || t.All(v => v == xmin)) continue;
            double a = 1 + t.Length / t.Sum(v => Math.Log(v / xmin));
            double d = t.Select((v, k) => Math.Max(Math.Abs(1 - Math.Pow(v / xmin, 1 - a) - (double)k / t.Length),
                convention == KsConvention.TwoSided ? Math.Abs((k + 1.0) / t.Length - (1 - Math.Pow(v / xmin, 1 - a))) : 0)).Max();
            Assert.True(fit.KsDistance <= d + 1e-15, $"x_min {xmin} has KS {d} < chosen {fit.KsDistance}");
        }
    }

    [Fact]
    public void IsScaleInvariant()
    {
        double[] x = Pareto(500, 2.2, 1, seed: 10);
        PowerLawFit a = PowerLawFit.Fit(x)!, b = PowerLawFit.Fit(x.Select(v => 7 * v))!;
        Close(a.Alpha, b.Alpha, 1e-9, "α");
        Close(7 * a.XMin, b.XMin, 1e-9, "x_min");
    }

    [Fact]
    public void ShortOrDegenerateSamplesHaveNoFit()
    {
        Assert.Null(PowerLawFit.Fit([1.0, 2, 3], minTailCount: 10));
        Assert.Null(PowerLawFit.Fit(Enumerable.Repeat(2.0, 50)));
        Assert.Null(PowerLawFit.Fit(new[] { 0.0, double.NaN, -1, double.PositiveInfinity }.Concat(Enumerable.Repeat(1.0, 3)), minTailCount: 2));
    }

    [Fact]
    public void MatrixFitUsesTheEigenvaluesOfWTransposeW()
    {
        using var scope = NewDisposeScope();
        var m = Gaussian(120, 80, seed: 11);
        MatrixSpectrum s = SpectralMetrics.Analyze(ToTensor(m));
        PowerLawFit truth = PowerLawFit.Fit(SingularValues(m).Select(v => v * v))!;
        Close(truth.Alpha, s.PowerLaw!.Alpha, 1e-8, "α");
        Close(truth.XMin, s.PowerLaw.XMin, 1e-8, "x_min");
        Assert.Null(SpectralMetrics.Analyze(ToTensor(m), options: new SpectralOptions { FitPowerLaw = false }).PowerLaw);
    }
}
