namespace LowRankBias.Spectral;

/// <summary>What <see cref="SpectralMonitor"/> records for one weight matrix at one step.</summary>
/// <param name="Name">The layer's module path.</param>
/// <param name="Shape">The weight's shape.</param>
/// <param name="EffectiveRank">exp(H) of σ/Σσ (Roy &amp; Vetterli).</param>
/// <param name="NormalizedEffectiveRank">exp(H)/R, R = min(m, n) (Yunis eq. 2).</param>
/// <param name="StableRank">Stable rank ‖W‖F²/‖W‖₂² (<see cref="IMatrixNorms.StableRank"/>).</param>
/// <param name="FrobeniusNorm">‖W‖F.</param>
/// <param name="SpectralNorm">‖W‖₂ = σ₁.</param>
/// <param name="NuclearNorm">Σσ.</param>
/// <param name="SingularValues">The largest singular values, descending (at most <see cref="SpectralMonitorOptions.TopSingularValues"/>).</param>
public sealed record LayerSpectrumRecord(
    string Name, long[] Shape, double EffectiveRank, double NormalizedEffectiveRank, double StableRank,
    double FrobeniusNorm, double SpectralNorm, double NuclearNorm, double[] SingularValues);

/// <summary>A diagonal of singular-vector alignment (Yunis eq. 3–5) and its score, the mean of its top entries.</summary>
/// <param name="Name">"first → second" for consecutive layers, the layer's path for agreement over time.</param>
/// <param name="Score">Mean of the top <see cref="SpectralMonitorOptions.ScoreCount"/> diagonal entries.</param>
/// <param name="Diagonal">The leading diagonal entries.</param>
public sealed record DiagonalRecord(string Name, double Score, double[] Diagonal);

/// <summary>One record of <see cref="SpectralMonitor"/>: every layer's spectrum, consecutive-layer alignment and agreement with the previous record.</summary>
/// <param name="Step">The training step.</param>
/// <param name="Layers">One entry per weight matrix, in module order.</param>
/// <param name="Alignment">Consecutive layers whose shapes chain (Wᵢ₊₁ acts on Wᵢ's output).</param>
/// <param name="Agreement">Each layer against itself at the previous record (empty at the first).</param>
public sealed record SpectralRecord(long Step, IReadOnlyList<LayerSpectrumRecord> Layers, IReadOnlyList<DiagonalRecord> Alignment, IReadOnlyList<DiagonalRecord> Agreement);
