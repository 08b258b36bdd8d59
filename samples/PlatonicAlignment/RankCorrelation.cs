using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;

namespace LowRankBias.Samples.PlatonicAlignment;

/// <summary>Spearman's rank correlation with the two-sided p-value of its t approximation (as scipy.stats.spearmanr).</summary>
internal static class RankCorrelation
{
    public static (double Rho, double P) Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int n = x.Count;
        if (n < 3) return (double.NaN, double.NaN);
        double rho = Correlation.Spearman(x, y);
        if (Math.Abs(rho) >= 1) return (rho, 0);
        double t = rho * Math.Sqrt((n - 2) / (1 - rho * rho));
        return (rho, 2 * StudentT.CDF(0, 1, n - 2, -Math.Abs(t)));
    }
}
