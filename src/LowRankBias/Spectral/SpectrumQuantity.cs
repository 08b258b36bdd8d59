namespace LowRankBias.Spectral;

/// <summary>What kind of number a <see cref="SpectrumColumn"/> holds: columns of one kind share a scale, so a figure
/// can draw them together (the <c>lowrankbias spectra</c> tool draws ranks on one, exponents on another).</summary>
public enum SpectrumQuantity
{
    /// <summary>A count of directions or a fraction of them (effective, stable rank).</summary>
    Rank,

    /// <summary>A matrix norm (in the units of the weights).</summary>
    Norm,

    /// <summary>A fitted exponent (the power-law α).</summary>
    Exponent,
}
