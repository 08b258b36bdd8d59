using LowRankBias.Torch;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Tool.Analysis;

/// <summary>
/// A weight's empirical spectral density as WeightWatcher forms it by default (<c>analyze()</c> with pool=True,
/// conv2d_norm=True, normalize=False): the eigenvalues λ = σ² of WᵀW, not divided by N. A 2-D weight is one matrix. A
/// 4-D convolution kernel gives one matrix per kernel position (<c>WWLayer.conv2D_Wmats</c>): W[:, :, i, j] when
/// c_out + c_in ≥ kh + kw (channels last, as PyTorch stores them), else W[i, j, :, :], each scaled by √(1/2)
/// (<c>apply_normalize_Wmats</c>: √(conv2d_count/2) with conv2d_count = 1 when pooling), and their eigenvalues are
/// pooled. N ≥ M are the sides of one such matrix and rf the number of matrices.
/// </summary>
/// <param name="Eigenvalues">Ascending, in float64.</param>
internal sealed record Esd(double[] Eigenvalues, int N, int M, int Rf)
{
    /// <summary>The scale of every convolution slice (conv2d_norm).</summary>
    public static readonly double ConvolutionScale = Math.Sqrt(1 / 2.0);

    /// <summary>The matrices [rf, rows, cols] of a 2-D or 4-D weight, in float64 and scaled, in the caller's dispose scope.</summary>
    public static Tensor Matrices(Tensor weight)
    {
        Tensor w = weight.to(ScalarType.Float64);
        if (w.dim() == 2) return w.unsqueeze(0);
        long[] s = w.shape;
        Tensor slices = s[0] + s[1] >= s[2] + s[3]
            ? w.permute(2, 3, 0, 1).reshape(s[2] * s[3], s[0], s[1])
            : w.reshape(s[0] * s[1], s[2], s[3]);
        return slices * ConvolutionScale;
    }

    /// <summary>N ≥ M of one matrix and rf, from the weight's shape alone (to select layers before loading them).</summary>
    public static (int N, int M, int Rf) Dimensions(long[] shape)
    {
        if (shape.Length == 2) return ((int)Math.Max(shape[0], shape[1]), (int)Math.Min(shape[0], shape[1]), 1);
        bool channelsLast = shape[0] + shape[1] >= shape[2] + shape[3];
        (long a, long b, long rf) = channelsLast ? (shape[0], shape[1], shape[2] * shape[3]) : (shape[2], shape[3], shape[0] * shape[1]);
        return ((int)Math.Max(a, b), (int)Math.Min(a, b), (int)rf);
    }

    /// <summary>The ESD of <paramref name="weight"/> (2-D or 4-D, floating point).</summary>
    /// <exception cref="InvalidDataException">The weight has NaN or ±∞ entries (LAPACK would fail or loop on them).</exception>
    public static Esd Of(Tensor weight, string name = "")
    {
        using var scope = NewDisposeScope();
        (int n, int m, int rf) = Dimensions(weight.shape);
        double[] evals = SquaredSingularValues(Matrices(weight), name, out int rankLoss);
        return new Esd(evals, n, m, rf) { RankLoss = rankLoss };
    }

    /// <summary>
    /// A matrix's Gram eigenvalues are kept when its smallest exceeds this × N·ε(float64) × its largest. The Gram's
    /// rounding moves every eigenvalue by at most a few ten ε·λmax (measured up to 44 on 768² and 3072 × 768 Gaussians
    /// against svdvals), so above this floor the smallest is right to 10⁻⁵ relative at worst (10⁻¹¹–10⁻⁹ measured) and
    /// every σ lies far above rank_loss's tolerance σmax·N·ε. Below it the matrix is rank-deficient or nearly so, and
    /// only the SVD resolves σ down to ε·σmax.
    /// </summary>
    public const double GramFloor = 1e4;

    /// <summary>
    /// The pooled λ = σ² (ascending) of matrices [rf, rows, cols] (float64), and WeightWatcher's rank_loss: per matrix
    /// the eigenvalues of the smaller Gram matrix (WᵀW or WWᵀ: its lower triangle by GEMMs, then a values-only symmetric
    /// eigensolver — about 2.5× less CPU than svdvals on ViT-B/16), and svdvals for the matrices whose Gram cannot resolve
    /// their smallest σ (<see cref="GramFloor"/>) — rank-deficient ones (LoRA ΔW, zero matrices) among them.
    /// </summary>
    /// <exception cref="InvalidDataException">An entry is NaN or ±∞ (or so large its square overflows float64).</exception>
    public static double[] SquaredSingularValues(Tensor matrices, string name, out int rankLoss)
    {
        using var scope = NewDisposeScope();
        long rows = matrices.shape[1], cols = matrices.shape[2];
        int n = (int)Math.Max(rows, cols), m = (int)Math.Min(rows, cols);
        Tensor gram = LowerGram(rows >= cols ? matrices : matrices.mT);
        // The Gram's trace is ‖W‖F²: any NaN or ±∞ entry makes it non-finite, at the cost of the trace instead of a
        // pass over the weight.
        if (!gram.diagonal(0, 1, 2).sum().isfinite().item<bool>())
            throw new InvalidDataException(matrices.isfinite().all().item<bool>()
                ? $"weight '{name}' has entries too large to square in float64: its spectrum is out of range"
                : $"weight '{name}' has NaN or ±∞ entries: its spectrum is undefined");
        double[] evals = linalg.eigvalsh(gram).ToArray<double>();
        var unresolved = new List<long>();
        for (int p = 0; p < evals.Length / m; p++)
            if (!(evals[p * m] > GramFloor * n * Epsilon * evals[p * m + m - 1])) unresolved.Add(p);
        rankLoss = 0;
        if (unresolved.Count > 0)
        {
            using Tensor s = linalg.svdvals(matrices.index_select(0, tensor(unresolved.ToArray())));
            double[] sv = s.ToArray<double>();
            for (int k = 0; k < unresolved.Count; k++)
            {
                var row = new ArraySegment<double>(sv, k * m, m); // descending
                // calc_rank_loss per matrix: its σ at or below σmax·N·ε (matrix_rank's tolerance).
                double tolerance = row[0] * n * Epsilon;
                rankLoss += row.Count(v => !(v > tolerance));
                for (int i = 0; i < m; i++) evals[unresolved[k] * m + i] = row[m - 1 - i] * row[m - 1 - i];
            }
        }
        Array.Sort(evals);
        return evals;
    }

    private const double Epsilon = 2.220446049250313e-16; // np.finfo(np.float64).eps

    // AᵀA of a: [rf, n, m] with n ≥ m, only its lower triangle, the part eigvalsh reads: with the columns split in two
    // halves A = [B C], the blocks BᵀB, CᵀB and CᵀC — three quarters of the multiplications of the whole product.
    private static Tensor LowerGram(Tensor a)
    {
        long m = a.shape[2], h = m / 2;
        if (h == 0) return a.mT.matmul(a);
        Tensor b = a.narrow(2, 0, h), c = a.narrow(2, h, m - h);
        Tensor gram = zeros([a.shape[0], m, m], ScalarType.Float64);
        gram.narrow(1, 0, h).narrow(2, 0, h).copy_(b.mT.matmul(b));
        gram.narrow(1, h, m - h).narrow(2, 0, h).copy_(c.mT.matmul(b));
        gram.narrow(1, h, m - h).narrow(2, h, m - h).copy_(c.mT.matmul(c));
        return gram;
    }

    /// <summary>WeightWatcher's rank_loss: per matrix, the singular values at or below σmax·N·ε(float64), summed over the matrices.</summary>
    public int RankLoss { get; init; }

    /// <summary>
    /// The ESD of the weight with the entries of every matrix shuffled (<c>random_eigenvalues</c>: np.random.shuffle of
    /// each flattened matrix, after scaling), pooled over <paramref name="replicas"/> draws. Our shuffle is a seeded
    /// Fisher–Yates, so the draws are reproducible but not numpy's.
    /// </summary>
    public static double[] Randomized(Tensor weight, int replicas, Random random)
    {
        using var scope = NewDisposeScope();
        Tensor matrices = Matrices(weight);
        long[] shape = matrices.shape;
        long size = shape[1] * shape[2];
        double[] entries = matrices.ToArray<double>();
        var all = new List<double>();
        for (int r = 0; r < replicas; r++)
        {
            double[] shuffled = (double[])entries.Clone();
            for (long p = 0; p < shape[0]; p++) random.Shuffle(shuffled.AsSpan((int)(p * size), (int)size));
            all.AddRange(SquaredSingularValues(tensor(shuffled, shape), "", out _));
        }
        all.Sort();
        return all.ToArray();
    }
}
