namespace LowRankBias.Spectral;

/// <summary>An alignment matrix between two sets of singular directions and its summary.</summary>
/// <param name="Matrix">Entry (j, k) compares direction j of the first matrix with direction k of the second (both in
/// descending order of singular value); values in [0, 1]. Averaged over heads for per-head input.</param>
/// <param name="Diagonal">The matrix's diagonal: direction j against direction j.</param>
/// <param name="Score">Mean of the first min(scoreCount, diagonal length) diagonal entries (Yunis et al. eq. 4 uses 10).</param>
public sealed record AlignmentResult(double[,] Matrix, double[] Diagonal, double Score);
