namespace LowRankBias.Lte;

/// <summary>How the heads' A factors are drawn (B always starts at zero).</summary>
public enum LteInit
{
    /// <summary>The LTE paper's choice (Bernstein et al., 2023): A semi-orthogonal scaled by √(d_out/d_in) = √(r/in).</summary>
    SemiOrthogonal,

    /// <summary>The official code's choice: A with orthonormal rows scaled by √(d_in/r) = √(in/r).</summary>
    ScaledOrthogonal,
}
