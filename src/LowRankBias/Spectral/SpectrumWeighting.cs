namespace LowRankBias.Spectral;

/// <summary>Which probability distribution the spectral entropy is taken over.</summary>
public enum SpectrumWeighting
{
    /// <summary>pᵢ = σᵢ / Σⱼσⱼ: Roy &amp; Vetterli (2007), Yunis et al. eq. (1), Huh thesis Def. 2.3.1.</summary>
    SingularValues,

    /// <summary>pᵢ = σᵢ² / Σⱼσⱼ²: the normalised eigenvalues of WᵀW (energy fractions).</summary>
    SquaredSingularValues,
}
