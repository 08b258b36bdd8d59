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

    /// <summary>‖W‖_F / ‖W‖₂, the convention of Kuzborskij et al. (Sec. 2); 1 for rank 1, √n for the n×n identity;
    /// 0 for a zero matrix.</summary>
    double StableRank { get; }

    /// <summary>‖W‖_F² / ‖W‖₂², the convention of Vershynin, the Huh thesis (Def. 7.3.3) and WeightWatcher; 1 for rank 1,
    /// n for the n×n identity; 0 for a zero matrix.</summary>
    double StableRankSquared { get; }
}
