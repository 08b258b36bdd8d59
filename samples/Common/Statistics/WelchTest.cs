using MathNet.Numerics.Distributions;

namespace LowRankBias.Statistics;

/// <summary>
/// Welch's unequal-variances t-test of two independent samples (two-sided): t = (m₁ − m₂) / √(s₁²/n₁ + s₂²/n₂) with the
/// Welch–Satterthwaite degrees of freedom ν = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁ − 1) + (s₂²/n₂)²/(n₂ − 1)) and
/// p = 2·(1 − F_ν(|t|)), F_ν the t distribution's CDF. Sample variances use n − 1.
/// </summary>
public static class WelchTest
{
    /// <summary>The test's statistic, degrees of freedom and two-sided p-value.</summary>
    public readonly record struct Result(double MeanDifference, double T, double DegreesOfFreedom, double P);

    /// <summary>
    /// Tests whether <paramref name="first"/> and <paramref name="second"/> have the same mean. Each needs at least two
    /// finite values. When neither sample varies the statistic is undefined: T, degrees of freedom and P are NaN.
    /// </summary>
    public static Result Test(IReadOnlyList<double> first, IReadOnlyList<double> second)
    {
        (double m1, double v1, int n1) = Moments(first, nameof(first));
        (double m2, double v2, int n2) = Moments(second, nameof(second));
        double a = v1 / n1, b = v2 / n2, se2 = a + b;
        if (se2 == 0) return new Result(m1 - m2, double.NaN, double.NaN, double.NaN);
        double t = (m1 - m2) / Math.Sqrt(se2);
        double df = se2 * se2 / (a * a / (n1 - 1) + b * b / (n2 - 1));
        // 2·(1 − F(|t|)) = 2·F(−|t|), which keeps its precision for large |t|.
        double p = Math.Min(1, 2 * StudentT.CDF(0, 1, df, -Math.Abs(t)));
        return new Result(m1 - m2, t, df, p);
    }

    private static (double mean, double variance, int n) Moments(IReadOnlyList<double> values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Count < 2) throw new ArgumentException($"Welch's t-test needs at least two values per sample; {name} has {values.Count}", name);
        if (values.Any(v => !double.IsFinite(v))) throw new ArgumentException($"{name} holds a non-finite value: [{string.Join(", ", values)}]", name);
        // Σ_{i<j} (xᵢ − xⱼ)² / (n(n − 1)) is the sample variance, and exactly 0 for equal values (Σ(x − mean)² is not
        // when the mean rounds).
        int n = values.Count;
        double pairs = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) pairs += (values[i] - values[j]) * (values[i] - values[j]);
        return (values.Average(), pairs / ((double)n * (n - 1)), n);
    }
}
