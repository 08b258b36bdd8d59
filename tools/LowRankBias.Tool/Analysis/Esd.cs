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
        if (!weight.isfinite().all().item<bool>())
            throw new InvalidDataException($"weight '{name}' has NaN or ±∞ entries: its spectrum is undefined");
        (int n, int m, int rf) = Dimensions(weight.shape);
        using Tensor s = linalg.svdvals(Matrices(weight));
        double[] sv = s.ToArray<double>();
        // calc_rank_loss per matrix: its σ at or below σmax·N·ε(float64) (matrix_rank's tolerance), summed.
        int perMatrix = (int)s.shape[1], rankLoss = 0;
        for (int p = 0; p < sv.Length / perMatrix; p++)
        {
            var row = new ArraySegment<double>(sv, p * perMatrix, perMatrix);
            double tolerance = row.Max() * n * Math.Pow(2, -52);
            rankLoss += row.Count(v => !(v > tolerance));
        }
        double[] evals = sv.Select(v => v * v).ToArray();
        Array.Sort(evals);
        return new Esd(evals, n, m, rf) { RankLoss = rankLoss };
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
            all.AddRange(SquaredSingularValues(tensor(shuffled, shape)));
        }
        all.Sort();
        return all.ToArray();
    }

    private static double[] SquaredSingularValues(Tensor matrices)
    {
        using Tensor s = linalg.svdvals(matrices);
        double[] values = s.ToArray<double>().Select(v => v * v).ToArray();
        Array.Sort(values);
        return values;
    }
}
