namespace LowRankBias.Spectral;

/// <summary>What the singular values are compared with when counting the threshold rank.</summary>
public enum ThresholdReference
{
    /// <summary>Counts σᵢ &gt; τ·σ_max (numerical rank relative to the largest singular value).</summary>
    LargestSingularValue,

    /// <summary>Counts σᵢ / Σⱼσⱼ ≥ τ: Huh thesis Def. 7.3.2 (threshold after normalising by the sum).</summary>
    SumOfSingularValues,
}
