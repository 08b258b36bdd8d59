namespace LowRankBias.Spectral;

/// <summary>
/// A continuous power law p(x) ∝ x^(−α) for x ≥ x_min fitted to the tail of a sample, by Clauset, Shalizi &amp; Newman
/// (2009): for every candidate x_min (each distinct sample value), α = 1 + n / Σ ln(xᵢ / x_min) over the n values
/// ≥ x_min (their eq. 3.1), and the x_min whose fit has the smallest Kolmogorov–Smirnov distance to the tail's
/// empirical CDF is kept (the first on ties), as the <c>powerlaw</c> package's <c>Fit</c> does for continuous data
/// without x_max. By default the distance is measured as <c>powerlaw</c> measures it (<see cref="KsConvention"/>).
/// Applied to the eigenvalues of WᵀW (σ²) this is the heavy-tail exponent α of Martin &amp; Mahoney (WeightWatcher,
/// which fits with <c>powerlaw</c>); it is unchanged when the matrix is scaled.
/// </summary>
/// <param name="Alpha">The exponent α (&gt; 1).</param>
/// <param name="XMin">Lower bound of the tail.</param>
/// <param name="TailCount">Number of sample values ≥ <paramref name="XMin"/>.</param>
/// <param name="KsDistance">Largest gap between the fitted and the empirical tail CDF, per the convention of the fit.</param>
public sealed record PowerLawFit(double Alpha, double XMin, int TailCount, double KsDistance)
{
    /// <summary>
    /// Fits the tail of <paramref name="samples"/>. Only positive finite values count (zero eigenvalues of
    /// rank-deficient matrices are dropped). Returns null when no x_min leaves at least
    /// <paramref name="minTailCount"/> values of which not all are equal. <c>powerlaw</c> itself tries every distinct
    /// value but the largest, which is <paramref name="minTailCount"/> = 2.
    /// </summary>
    public static PowerLawFit? Fit(IEnumerable<double> samples, int minTailCount = 10, KsConvention convention = KsConvention.Powerlaw)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfLessThan(minTailCount, 2);
        double[] x = samples.Where(v => v > 0 && double.IsFinite(v)).Order().ToArray();
        int n = x.Length;
        if (n < minTailCount) return null;

        // logs[i] = ln xᵢ and suffixLog[i] = Σ_{j ≥ i} ln xⱼ, so each candidate's MLE costs O(1).
        double[] logs = x.Select(v => Math.Log(v)).ToArray();
        var suffixLog = new double[n + 1];
        for (int i = n - 1; i >= 0; i--) suffixLog[i] = suffixLog[i + 1] + logs[i];

        PowerLawFit? best = null;
        for (int start = 0; n - start >= minTailCount; start++)
        {
            if (start > 0 && x[start] == x[start - 1]) continue; // same x_min as the previous candidate
            int tail = n - start;
            if (x[n - 1] == x[start]) break; // every tail value equals x_min: no exponent here or further on
            double logSum = suffixLog[start] - tail * logs[start];
            double alpha = 1 + tail / logSum;
            double ks = KolmogorovSmirnov(x, logs, start, alpha, convention, best?.KsDistance ?? double.PositiveInfinity);
            if (best is null || ks < best.KsDistance) best = new PowerLawFit(alpha, x[start], tail, ks);
        }
        return best;
    }

    // The distance between P(x) = 1 − (x/x_min)^(1−α) and the empirical CDF S of the sorted tail x[start..]; S steps
    // up at each value, from k/n just below the k-th value (ties: its first occurrence) to (k + 1)/n. Stops early once
    // the distance reaches `bound` (the best so far), which cannot win any more: this keeps the scan over all
    // candidates fast.
    private static double KolmogorovSmirnov(double[] x, double[] logs, int start, double alpha, KsConvention convention, double bound)
    {
        int tail = logs.Length - start;
        double worst = 0;
        for (int k = 0; k < tail && worst < bound; k++)
        {
            double model = 1 - Math.Exp((1 - alpha) * (logs[start + k] - logs[start]));
            double below = (double)k / tail, above = (double)(k + 1) / tail;
            worst = convention == KsConvention.TwoSided
                ? Math.Max(worst, Math.Max(Math.Abs(model - below), Math.Abs(above - model)))
                : k > 0 && x[start + k] == x[start + k - 1] ? worst : Math.Max(worst, Math.Abs(model - below));
        }
        return worst;
    }
}
