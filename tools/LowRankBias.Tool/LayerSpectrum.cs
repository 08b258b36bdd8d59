namespace LowRankBias.Tool;

/// <summary>One weight matrix's measures, as the table, CSV and JSON show them (α is NaN where no power law fits).</summary>
internal sealed record LayerSpectrum(int Index, string Name, long[] Shape, string DType, double StableRank, double EffectiveRank,
    double Alpha, double FrobeniusNorm, double SpectralNorm, double NuclearNorm);
