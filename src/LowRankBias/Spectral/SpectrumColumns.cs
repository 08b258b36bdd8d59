namespace LowRankBias.Spectral;

/// <summary>
/// The per-matrix metrics that files and tables show, each declared once. Adding a metric is a property on
/// <see cref="MatrixSpectrum"/> and one entry in <c>Added</c>: the monitor's <c>spectral.csv</c> and records and the
/// tool's table, CSV, JSON and figures all gain it. The two layouts below keep the column order of the files written
/// before these lists existed (committed results and their readers depend on it); new columns follow in both.
/// </summary>
public static class SpectrumColumns
{
    /// <summary>exp(H), the effective rank of Roy &amp; Vetterli (<see cref="MatrixSpectrum.EffectiveRank"/>).</summary>
    public static SpectrumColumn EffectiveRank { get; } =
        new("effective_rank", "eff. rank", "effective rank exp(H)", SpectrumQuantity.Rank, s => s.EffectiveRank);

    /// <summary>exp(H)/R, R = min(m, n) (Yunis et al. eq. 2; <see cref="MatrixSpectrum.NormalizedEffectiveRank"/>).</summary>
    public static SpectrumColumn NormalizedEffectiveRank { get; } =
        new("normalized_effective_rank", "exp(H)/R", "normalised effective rank exp(H)/R", SpectrumQuantity.Rank, s => s.NormalizedEffectiveRank);

    /// <summary>‖W‖F²/‖W‖₂² (<see cref="IMatrixNorms.StableRank"/>).</summary>
    public static SpectrumColumn StableRank { get; } =
        new("stable_rank", "stable rank", "stable rank ‖W‖F²/‖W‖₂²", SpectrumQuantity.Rank, s => s.StableRank);

    /// <summary>The power-law exponent α of the eigenvalues of WᵀW (<see cref="MatrixSpectrum.PowerLaw"/>); NaN where no power law is fitted.</summary>
    public static SpectrumColumn Alpha { get; } =
        new("alpha", "α", "power-law exponent α of the eigenvalues of WᵀW", SpectrumQuantity.Exponent, s => s.PowerLaw?.Alpha ?? double.NaN);

    /// <summary>‖W‖F.</summary>
    public static SpectrumColumn FrobeniusNorm { get; } =
        new("frobenius_norm", "‖W‖F", "Frobenius norm ‖W‖F", SpectrumQuantity.Norm, s => s.FrobeniusNorm);

    /// <summary>‖W‖₂ = σ₁.</summary>
    public static SpectrumColumn SpectralNorm { get; } =
        new("spectral_norm", "‖W‖₂", "spectral norm ‖W‖₂ = σ₁", SpectrumQuantity.Norm, s => s.SpectralNorm);

    /// <summary>‖W‖* = Σσ.</summary>
    public static SpectrumColumn NuclearNorm { get; } =
        new("nuclear_norm", "‖W‖*", "nuclear norm ‖W‖* = Σσ", SpectrumQuantity.Norm, s => s.NuclearNorm);

    // Metrics added after the two layouts were fixed: each is recorded by the monitor and listed by the tool, at the end.
    // (Declared before the layouts, which read it: static initialisers run in text order.)
    private static readonly SpectrumColumn[] Added = [];

    /// <summary>What <see cref="SpectralMonitor"/> records for every layer, in the order of <c>spectral.csv</c> and of the JSON records.</summary>
    public static IReadOnlyList<SpectrumColumn> Recorded { get; } =
        [EffectiveRank, NormalizedEffectiveRank, StableRank, FrobeniusNorm, SpectralNorm, NuclearNorm, .. Added];

    /// <summary>What <c>lowrankbias spectra</c> lists for every weight matrix of a checkpoint, in the order of its table, <c>spectra.csv</c> and <c>spectra.json</c>.</summary>
    public static IReadOnlyList<SpectrumColumn> Listed { get; } =
        [StableRank, EffectiveRank, Alpha, FrobeniusNorm, SpectralNorm, NuclearNorm, .. Added];
}
