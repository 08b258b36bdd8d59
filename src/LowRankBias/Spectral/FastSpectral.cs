using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>
/// Spectral quantities without a full SVD, for large matrices or frequent monitoring; everything runs batched on the
/// tensors' device. Random start vectors come from a seeded host generator, not libtorch's.
/// </summary>
public static class FastSpectral
{
    /// <summary>
    /// ‖W‖₂ of each matrix in [..., m, n] by power iteration on WᵀW, returned as a tensor [...] on the same device.
    /// The estimate never exceeds σ₁ and its relative error shrinks like (σ₂/σ₁)^(4·iterations), so matrices with
    /// a clear top singular value converge in a few dozen iterations; near-degenerate tops need more. Zero matrices give 0.
    /// </summary>
    public static Tensor SpectralNorm(Tensor matrices, int iterations = 100, int seed = 0)
    {
        CheckMatrices(matrices, nameof(matrices));
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor w = SpectralTensors.FloatingPoint(matrices);
        Tensor wT = w.mT;
        Tensor v = SeededGaussian.Matrix(w.size(-1), 1, seed, w.dtype, w.device);
        for (int i = 0; i < iterations; i++)
        {
            using Tensor u = w.matmul(v);
            using Tensor next = wT.matmul(u);
            v.Dispose();
            v = SpectralTensors.Normalized(next, dim: -2);
        }
        using Tensor image = w.matmul(v);
        using Tensor norms = image.norm(2, [-2]);
        return norms.squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>Frobenius norm (exact) and spectral norm (power iteration, see <see cref="SpectralNorm"/>) of one weight.</summary>
    public static MatrixNormEstimate EstimateNorms(Tensor weight, string name = "", int iterations = 100,
        ConvolutionLayout layout = ConvolutionLayout.Flatten, bool computeInFloat64 = false) =>
        EstimateNorms([(name, weight)], iterations, layout, computeInFloat64)[0];

    /// <summary>
    /// Frobenius and spectral norms of many weights, hence both stable ranks without an SVD, batched per matrix shape.
    /// For pooled convolutions (<see cref="ConvolutionLayout.PerKernelPosition"/>) the spectral norm is the largest over
    /// kernel positions, matching the pooled spectrum's σ_max. NaN or ±∞ entries give NaN norms.
    /// </summary>
    public static IReadOnlyList<MatrixNormEstimate> EstimateNorms(IReadOnlyList<(string name, Tensor weight)> weights, int iterations = 100,
        ConvolutionLayout layout = ConvolutionLayout.Flatten, bool computeInFloat64 = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        double[][][] norms = MatrixBatching.Run(weights, layout, input => SpectralTensors.ComputeType(input, computeInFloat64), group =>
        {
            using Tensor frobenius = group.norm(2, [-2, -1]);
            using Tensor spectral = SpectralNorm(group, iterations);
            return torch.stack([frobenius, spectral], 1);
        });
        return weights.Select((w, i) => new MatrixNormEstimate(w.name, w.weight.shape,
            Math.Sqrt(norms[i].Sum(p => p[0] * p[0])), norms[i].Max(p => p[1]))).ToArray();
    }

    /// <summary>
    /// The top-<paramref name="k"/> singular triplets of each matrix in [..., m, n] by the randomised range finder of
    /// Halko, Martinsson &amp; Tropp (2011, Alg. 4.4 with QR re-orthonormalisation, then Alg. 5.1): sketch with
    /// k + <paramref name="oversampling"/> Gaussian directions, refine with <paramref name="powerIterations"/> subspace
    /// iterations, and take the exact SVD of the small projected matrix. U [..., m, k], S [..., k], Vh [..., k, n],
    /// on the input's device, in the caller's dispose scope.
    /// </summary>
    public static (Tensor U, Tensor S, Tensor Vh) RandomizedSvd(Tensor matrices, int k, int oversampling = 10, int powerIterations = 2,
        int seed = 0)
    {
        CheckMatrices(matrices, nameof(matrices));
        long m = matrices.size(-2), n = matrices.size(-1), rank = Math.Min(m, n);
        if (k < 1 || k > rank) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [1, min(m, n) = {rank}]");
        ArgumentOutOfRangeException.ThrowIfNegative(oversampling);
        ArgumentOutOfRangeException.ThrowIfNegative(powerIterations);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor a = SpectralTensors.FloatingPoint(matrices);
        Tensor aT = a.mT;
        long sketch = Math.Min(k + (long)oversampling, rank);
        Tensor omega = SeededGaussian.Matrix(n, sketch, seed, a.dtype, a.device);
        Tensor q = OrthonormalBasis(a.matmul(omega));
        for (int i = 0; i < powerIterations; i++)
        {
            Tensor z = OrthonormalBasis(aT.matmul(q));
            q = OrthonormalBasis(a.matmul(z));
        }
        (Tensor ub, Tensor s, Tensor vh) = torch.linalg.svd(q.mT.matmul(a), full_matrices: false);
        Tensor u = q.matmul(ub);
        return (u.narrow(-1, 0, k).MoveToOuterDisposeScope(), s.narrow(-1, 0, k).MoveToOuterDisposeScope(),
            vh.narrow(-2, 0, k).MoveToOuterDisposeScope());
    }

    private static Tensor OrthonormalBasis(Tensor columns) => torch.linalg.qr(columns).Q;

    private static void CheckMatrices(Tensor matrices, string parameter) =>
        SpectralTensors.Check(matrices, parameter, 2, int.MaxValue, "matrices [..., m, n]");
}
