namespace LowRankBias.Spectral;

/// <summary>The norms of one named weight matrix that the across-layer statistics of <see cref="LayerStatistics"/> need.
/// Implemented by the exact <see cref="MatrixSpectrum"/> and the fast <see cref="MatrixNormEstimate"/>.</summary>
public interface IMatrixNorms
{
    /// <summary>The weight's name (e.g. its parameter path).</summary>
    string Name { get; }

    /// <summary>‖W‖_F.</summary>
    double FrobeniusNorm { get; }

    /// <summary>‖W‖₂ = σ_max.</summary>
    double SpectralNorm { get; }

    /// <summary>The stable rank ‖W‖_F² / ‖W‖₂² = Σσᵢ² / σ₁² (Rudelson &amp; Vershynin; the Huh thesis, Def. 7.3.3;
    /// WeightWatcher's <c>stable_rank</c>): 1 for rank 1, n for the n×n identity; 0 for a zero matrix.</summary>
    double StableRank { get; }

    /// <summary>√(stable rank) = ‖W‖_F / ‖W‖₂, which Kuzborskij et al. (Sec. 2) call the stable rank: 1 for rank 1,
    /// √n for the n×n identity; 0 for a zero matrix.</summary>
    double StableRankSqrt { get; }
}
