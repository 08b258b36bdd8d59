using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>
/// Singular-vector alignment from Yunis et al. ("Approaching deep learning through the spectral dynamics of weights"):
/// between consecutive layers (eq. 3–4) and between two checkpoints of one matrix (eq. 5). Inputs are matrices
/// [m, n], or per-head stacks [H, m, n] whose results are averaged over heads (their App. A.4). Pair the matrices
/// with <see cref="WeightMatrices"/> (convolutions: the flattened layer with the next layer's
/// <see cref="WeightMatrices.CentreSlice"/>) and <see cref="AttentionHeads"/>. Absolute values discard the SVD's sign
/// ambiguity; within a group of (nearly) equal singular values the directions, hence the entries, are not unique.
/// </summary>
public static class LayerAlignment
{
    /// <summary>
    /// A_jk = |⟨u_j(Wᵢ), v_k(Wᵢ₊₁)⟩| (eq. 3): how the output directions of <paramref name="first"/> (Wᵢ, [m, n]) line up
    /// with the input directions of <paramref name="second"/> (Wᵢ₊₁, [p, m]), which acts on Wᵢ's output.
    /// Score: a = mean of the top <paramref name="scoreCount"/> diagonal entries (eq. 4).
    /// </summary>
    /// <param name="first">Wᵢ [m, n] or [H, m, n].</param>
    /// <param name="second">Wᵢ₊₁ [p, m] or [H, p, m].</param>
    /// <param name="scoreCount">Diagonal entries averaged into the score (10 in the paper).</param>
    /// <param name="maxDirections">Keep at most this many directions of each matrix in <see cref="AlignmentResult.Matrix"/> (the paper plots 100).</param>
    /// <param name="computeInFloat64">Run the SVDs in float64 (otherwise float64 only if an input is float64, else float32).</param>
    public static AlignmentResult Consecutive(Tensor first, Tensor second, int scoreCount = 10, int? maxDirections = null,
        bool computeInFloat64 = false)
    {
        CheckPair(first, nameof(first), second, nameof(second));
        if (first.size(-2) != second.size(-1))
            throw new ArgumentException($"Wᵢ₊₁ {SpectralTensors.ShapeText(second)} does not act on the output of Wᵢ {SpectralTensors.ShapeText(first)}: " +
                $"its input size must be {first.size(-2)}", nameof(second));
        return Align(first, second, scoreCount, maxDirections, computeInFloat64, (a, b) =>
        {
            using Tensor v = b.Vh.mT;
            using Tensor inner = a.U.mT.matmul(v);
            return inner.abs();
        });
    }

    /// <summary>
    /// Singular-vector agreement S_jk = |⟨u_j v_jᵀ, u'_k v'_kᵀ⟩_F| = |u_j·u'_k|·|v_j·v'_k| (eq. 5) between two
    /// checkpoints of the same matrix (<paramref name="earlier"/> at step t, <paramref name="later"/> at the final step T).
    /// </summary>
    public static AlignmentResult SingularVectorAgreement(Tensor earlier, Tensor later, int scoreCount = 10, int? maxDirections = null,
        bool computeInFloat64 = false)
    {
        CheckPair(earlier, nameof(earlier), later, nameof(later));
        if (!earlier.shape.SequenceEqual(later.shape))
            throw new ArgumentException($"checkpoints of one matrix must have one shape, got {SpectralTensors.ShapeText(earlier)} and {SpectralTensors.ShapeText(later)}",
                nameof(later));
        return Align(earlier, later, scoreCount, maxDirections, computeInFloat64, (a, b) =>
        {
            using Tensor left = a.U.mT.matmul(b.U);
            using Tensor vb = b.Vh.mT;
            using Tensor right = a.Vh.matmul(vb);
            using Tensor product = left * right;
            return product.abs();
        });
    }

    private static AlignmentResult Align(Tensor x, Tensor y, int scoreCount, int? maxDirections, bool computeInFloat64,
        Func<(Tensor U, Tensor S, Tensor Vh), (Tensor U, Tensor S, Tensor Vh), Tensor> alignment)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scoreCount, 1);
        if (maxDirections is < 1) throw new ArgumentOutOfRangeException(nameof(maxDirections), maxDirections, "must be at least 1");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        ScalarType type = SpectralTensors.ComputeType(x.dtype, computeInFloat64 || y.dtype == ScalarType.Float64);
        Tensor matrix = alignment(torch.linalg.svd(x.to(type), full_matrices: false), torch.linalg.svd(y.to(type), full_matrices: false));
        if (matrix.dim() == 3) matrix = matrix.mean(0);
        long rows = Math.Min(matrix.size(0), maxDirections ?? long.MaxValue), cols = Math.Min(matrix.size(1), maxDirections ?? long.MaxValue);
        double[,] result = SpectralTensors.ToHostMatrix(matrix.narrow(0, 0, rows).narrow(1, 0, cols));
        double[] diagonal = Enumerable.Range(0, (int)Math.Min(rows, cols)).Select(j => result[j, j]).ToArray();
        return new AlignmentResult(result, diagonal, diagonal.Take(scoreCount).Average());
    }

    private static void CheckPair(Tensor x, string xName, Tensor y, string yName)
    {
        const string expected = "a matrix [m, n] or per-head matrices [H, m, n] (flatten convolutions with WeightMatrices first)";
        SpectralTensors.Check(x, xName, 2, 3, expected);
        SpectralTensors.Check(y, yName, 2, 3, expected);
        if (x.dim() != y.dim() || (x.dim() == 3 && x.size(0) != y.size(0)))
            throw new ArgumentException($"{xName} and {yName} must hold the same number of heads, got {SpectralTensors.ShapeText(x)} and {SpectralTensors.ShapeText(y)}", yName);
        SpectralTensors.RequireFinite(x, xName);
        SpectralTensors.RequireFinite(y, yName);
    }
}
