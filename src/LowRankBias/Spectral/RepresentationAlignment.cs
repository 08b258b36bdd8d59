using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>
/// Similarity of two representations of the same n samples, X [n, d₁] and Y [n, d₂] (row i of both describes
/// sample i), after the Huh thesis ch. 3 and App. 6.1–6.2 (the Platonic representation hypothesis). By default every
/// metric reproduces platonic-rep's <c>metrics.AlignmentMetrics</c> as <c>measure_alignment.compute_score</c> calls it
/// (rows L2-normalised first); the kernel metrics take <see cref="AlignmentConvention.Thesis"/> for the thesis's
/// formulas on the raw features. Each method's summary names the reference it matches. Nearest-neighbour
/// metrics use top-k selection (never a full sort) and O(n²) memory on the features' device; the kernel metrics
/// (CKA, CKNNA, SVCCA) compute in float64. Gradients are never recorded.
/// </summary>
public static partial class RepresentationAlignment
{
    /// <summary>Checks a pair of feature sets and returns n.</summary>
    private static long CheckPair(Tensor x, Tensor y, long minSamples)
    {
        SpectralTensors.Check(x, nameof(x), 2, 2, "features [n, d]");
        SpectralTensors.Check(y, nameof(y), 2, 2, "features [n, d]");
        long n = x.size(0);
        if (y.size(0) != n)
            throw new ArgumentException($"both feature sets must describe the same samples: x has {n} rows, y has {y.size(0)}", nameof(y));
        if (n < minSamples) throw new ArgumentException($"this metric needs at least {minSamples} samples, got {n}", nameof(x));
        SpectralTensors.RequireFinite(x, nameof(x));
        SpectralTensors.RequireFinite(y, nameof(y));
        return n;
    }

    private static void CheckNeighbours(int k, long n)
    {
        if (k < 1 || k >= n) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [1, n − 1] = [1, {n - 1}] (a sample is not its own neighbour)");
    }

    /// <summary>[n, n] 0/1 matrix whose row i marks the k samples most similar to sample i, excluding i itself.</summary>
    private static Tensor NeighbourMask(Tensor similarity, int k)
    {
        Tensor others = similarity.clone();
        AtenOps.FillDiagonal(others, double.NegativeInfinity);
        (Tensor _, Tensor indices) = others.topk(k, dim: 1);
        using Tensor empty = torch.zeros_like(others);
        return AtenOps.ScatterValue(empty, 1, indices, 1);
    }

    /// <summary>Similarity whose larger values mean nearer, per <paramref name="metric"/>.</summary>
    private static Tensor Similarity(Tensor features, KnnMetric metric)
    {
        Tensor x = SpectralTensors.FloatingPoint(features);
        if (metric == KnnMetric.Euclidean) return -AtenOps.Cdist(x, x);
        return GramMatrix.Compute(x, GramKernel.Cosine);
    }

    private static double Scalar(Tensor t) => t.to(Device.CPU, ScalarType.Float64).item<double>();
}
