namespace LowRankBias.Spectral;

/// <summary>Norms of one weight estimated without an SVD (<see cref="FastSpectral.EstimateNorms(IReadOnlyList{ValueTuple{string, LowRankBias.Torch.Tensor}}, int, ConvolutionLayout, bool)"/>):
/// ‖W‖_F exactly from the entries, ‖W‖₂ by power iteration (a lower bound, so the stable ranks are upper bounds).</summary>
/// <param name="Name">The weight's name.</param>
/// <param name="Shape">Shape of the weight as given.</param>
/// <param name="FrobeniusNorm">‖W‖_F.</param>
/// <param name="SpectralNorm">Power-iteration estimate of ‖W‖₂ (largest over kernel positions for pooled convolutions).</param>
public sealed record MatrixNormEstimate(string Name, long[] Shape, double FrobeniusNorm, double SpectralNorm) : IMatrixNorms
{
    /// <inheritdoc />
    public double StableRank => StableRankSqrt * StableRankSqrt;

    /// <inheritdoc />
    public double StableRankSqrt => SpectralNorm == 0 ? 0 : FrobeniusNorm / SpectralNorm;
}
