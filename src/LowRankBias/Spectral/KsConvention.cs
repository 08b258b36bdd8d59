namespace LowRankBias.Spectral;

/// <summary>Where <see cref="PowerLawFit"/> compares the fitted CDF P with the empirical CDF S of the tail, whose
/// minimum over the candidate x_min chooses the fit (so the convention changes x_min and α, not only the distance).</summary>
public enum KsConvention
{
    /// <summary>
    /// The <c>powerlaw</c> package's (Alstott et al. 2014, <c>Distribution.compute_distance_metrics</c>, which
    /// WeightWatcher calls through <c>powerlaw.Fit</c>): at each distinct tail value v, |P(v) − S(v⁻)| with S(v⁻) the
    /// fraction of the tail strictly below v (k/n for the k-th of n sorted distinct values) — the left limit of each
    /// step only. The distance can be 0.
    /// </summary>
    Powerlaw,

    /// <summary>The supremum of |S − P| over the tail (Clauset, Shalizi &amp; Newman 2009, eq. 3.9): both sides of
    /// every step of S are compared, so the distance is at least 1/(2n).</summary>
    TwoSided,
}
