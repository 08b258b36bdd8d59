namespace LowRankBias.Spectral;

/// <summary>
/// Statistics across the layers of one network, from Kuzborskij et al. ("low-rank bias, weight decay and model
/// merging"). What they call stable rank is ‖W‖_F / ‖W‖₂, <see cref="IMatrixNorms.StableRankSqrt"/> here (the
/// square root of the usual stable rank, <see cref="IMatrixNorms.StableRank"/>). A NaN input
/// (zero or non-finite layer) makes the statistic NaN.
/// </summary>
public static class LayerStatistics
{
    /// <summary>K / Σₖ (‖Wₖ‖_F / ‖Wₖ‖₂)⁻¹, the harmonic mean of the layers' ‖W‖_F / ‖W‖₂ (Kuzborskij's stable ranks) that Sec. 1 / Lemma 4 bound by
    /// the weight-decay strength (Timor et al.'s proxy for low rank). Lies in [1, max ‖Wₖ‖_F / ‖Wₖ‖₂].</summary>
    public static double HarmonicMeanStableRankSqrt(IEnumerable<IMatrixNorms> layers) => 1 / MeanInverseStableRankSqrt(layers);

    /// <summary>(1/K) Σₖ ‖Wₖ‖₂ / ‖Wₖ‖_F, the left-hand side of Lemma 4 (eq. 2); in (0, 1], grows with weight decay.</summary>
    public static double MeanInverseStableRankSqrt(IEnumerable<IMatrixNorms> layers) =>
        NonEmpty(layers).Average(l => l.SpectralNorm / l.FrobeniusNorm);

    /// <summary>The layers' Frobenius norms and how far they are from equal, which Lemma 3 (norm preservation)
    /// predicts at stationary points of homogeneous networks trained with weight decay.</summary>
    public static NormPreservation FrobeniusNorms(IEnumerable<IMatrixNorms> layers)
    {
        var list = NonEmpty(layers);
        return NormPreservation.From(list.Select(l => (l.Name, l.FrobeniusNorm)).ToArray());
    }

    private static List<IMatrixNorms> NonEmpty(IEnumerable<IMatrixNorms> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var list = layers.ToList();
        if (list.Count == 0) throw new ArgumentException("no layers were given", nameof(layers));
        return list;
    }
}
