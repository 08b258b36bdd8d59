using LowRankBias.Statistics;

namespace LowRankBias.Cli.Tests.Statistics;

public class WelchTestTests
{
    [Fact]
    public void TwoValuesEachWithEqualSpreadHaveTwoDegreesOfFreedomAndTheClosedFormP()
    {
        // Means 1 and 4, variances 2 and 2: t = −3/√2, ν = (1 + 1)²/(1 + 1) = 2, and for ν = 2 the t CDF is
        // 1/2 + t/(2√(2 + t²)), so the two-sided p is 1 − |t|/√(2 + t²).
        WelchTest.Result r = WelchTest.Test([0, 2], [3, 5]);
        double t = -3 / Math.Sqrt(2);
        Assert.Equal(-3, r.MeanDifference, 12);
        Assert.Equal(t, r.T, 12);
        Assert.Equal(2, r.DegreesOfFreedom, 12);
        Assert.Equal(1 - Math.Abs(t) / Math.Sqrt(2 + t * t), r.P, 10);
    }

    [Fact]
    public void UnequalSamplesMatchTheWelchSatterthwaiteFormulaAndAnIntegratedTDistribution()
    {
        double[] a = [0.80, 0.82, 0.85, 0.79], b = [0.70, 0.76, 0.74];
        WelchTest.Result r = WelchTest.Test(a, b);
        // By hand: means 0.815 and 0.7333…, variances (n − 1) 0.0007 and 0.000933…
        double va = 0.0007 / 4, vb = (0.0028 / 3) / 3;
        Assert.Equal((0.815 - 2.2 / 3) / Math.Sqrt(va + vb), r.T, 9);
        double df = (va + vb) * (va + vb) / (va * va / 3 + vb * vb / 2);
        Assert.Equal(df, r.DegreesOfFreedom, 9);
        Assert.NotEqual(Math.Round(df), df, 3);  // a non-integer ν: no closed form, so integrate the density
        Assert.Equal(TwoSidedP(r.T, df), r.P, 7);
        Assert.True(r.P is > 0.005 and < 0.05, $"p = {r.P}");
    }

    [Fact]
    public void SwappingTheSamplesNegatesTAndKeepsP()
    {
        double[] a = [1, 2, 4], b = [3, 3.5, 7, 9];
        WelchTest.Result ab = WelchTest.Test(a, b), ba = WelchTest.Test(b, a);
        Assert.Equal(-ab.T, ba.T, 12);
        Assert.Equal(ab.P, ba.P, 12);
        Assert.Equal(ab.DegreesOfFreedom, ba.DegreesOfFreedom, 12);
    }

    [Fact]
    public void SamplesWithoutSpreadGiveNoStatistic()
    {
        WelchTest.Result r = WelchTest.Test([0.5, 0.5], [0.7, 0.7, 0.7]);
        Assert.Equal(-0.2, r.MeanDifference, 12);
        Assert.True(double.IsNaN(r.T) && double.IsNaN(r.P) && double.IsNaN(r.DegreesOfFreedom));
    }

    [Fact]
    public void TooFewOrNonFiniteValuesAreRefusedNamingTheSample()
    {
        Assert.Contains("first has 1", Assert.Throws<ArgumentException>(() => WelchTest.Test([1], [1, 2])).Message);
        Assert.Contains("second holds a non-finite value", Assert.Throws<ArgumentException>(() => WelchTest.Test([1, 2], [1, double.NaN])).Message);
    }

    // 2·P(T > |t|) for Student's t with ν degrees of freedom in float64, independent of any library: the unnormalised
    // density (1 + x²/ν)^(−(ν+1)/2) integrated with x = tan θ (dx = sec²θ dθ) by Simpson's rule over the tail and the whole line.
    private static double TwoSidedP(double t, double nu)
    {
        double G(double theta)
        {
            double c = Math.Cos(theta), x = Math.Tan(theta);
            return c == 0 ? 0 : Math.Pow(1 + x * x / nu, -(nu + 1) / 2) / (c * c);
        }
        double Simpson(double from, double to, int n = 200_000)
        {
            double h = (to - from) / n, sum = G(from) + G(to);
            for (int i = 1; i < n; i++) sum += G(from + i * h) * (i % 2 == 1 ? 4 : 2);
            return sum * h / 3;
        }
        return 2 * Simpson(Math.Atan(Math.Abs(t)), Math.PI / 2) / Simpson(-Math.PI / 2, Math.PI / 2);
    }
}
