namespace LowRankBias.Spectral;

/// <summary>Which reference a kernel alignment metric of <see cref="RepresentationAlignment"/> reproduces.</summary>
public enum AlignmentConvention
{
    /// <summary>
    /// platonic-rep (github.com/minyoungg/platonic-rep), the code of the Platonic representation paper:
    /// <c>measure_alignment.compute_score</c> L2-normalises every sample's features, then
    /// <c>metrics.AlignmentMetrics</c> computes the metric on the uncentred inner-product kernels and divides by
    /// √(HSIC(K, K)·HSIC(L, L)) + 10⁻⁶.
    /// </summary>
    Platonic,

    /// <summary>The Huh thesis's formulas (App. 6.1–6.2) on the features as given: column-centred linear kernels,
    /// CKNNA centred per row (eqs. 6.8–6.10), no ε in the denominator; for SVCCA, Raghu et al.'s variance rule.</summary>
    Thesis,
}
