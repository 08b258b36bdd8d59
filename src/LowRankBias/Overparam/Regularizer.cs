namespace LowRankBias.Overparam;

/// <summary>The explicit regularisers the Huh thesis compares over-parameterisation against (Table 2.3); see <see cref="Regularizers"/>.</summary>
public enum Regularizer
{
    /// <summary>Σ|wᵢ| (<see cref="Regularizers.L1"/>).</summary>
    L1,

    /// <summary>Σ_W ‖vec W‖₂, not squared (<see cref="Regularizers.L2"/>).</summary>
    L2,

    /// <summary>Σ_W ‖W‖_F² (<see cref="Regularizers.SquaredFrobenius"/>).</summary>
    SquaredFrobenius,

    /// <summary>Σ_W ‖W‖_* (<see cref="Regularizers.NuclearNorm"/>).</summary>
    NuclearNorm,

    /// <summary>Σ_W ρ(W), the spectral entropy (<see cref="Regularizers.SpectralEntropy"/>; the thesis's "effective rank").</summary>
    SpectralEntropy,

    /// <summary>Σ_W ‖W‖_F² / ‖W‖₂² (<see cref="Regularizers.StableRank"/>).</summary>
    StableRank,
}
