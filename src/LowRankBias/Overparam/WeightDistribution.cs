namespace LowRankBias.Overparam;

/// <summary>Distribution of the weights of the random networks of <see cref="RandomNetworks"/> (the thesis's Fig. 2.2 uses both).</summary>
public enum WeightDistribution
{
    /// <summary>N(0, 1/width).</summary>
    Normal,

    /// <summary>U(−√(3/width), √(3/width)), the same variance as <see cref="Normal"/>.</summary>
    Uniform,
}
