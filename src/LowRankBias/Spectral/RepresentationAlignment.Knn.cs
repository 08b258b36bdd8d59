using LowRankBias.Torch;

namespace LowRankBias.Spectral;

public static partial class RepresentationAlignment
{
    /// <summary>
    /// Mutual k-nearest-neighbour alignment m_NN (thesis eqs. 6.1–6.3): the mean over samples i of
    /// |S_k(xᵢ) ∩ S_k(yᵢ)| / k, where S_k are i's k nearest other samples in each representation. 1 when the
    /// neighbourhoods agree (e.g. Y a rotated and scaled copy of X), about k/(n−1) for unrelated representations.
    /// With <see cref="KnnMetric.Cosine"/> (default) this is platonic-rep's <c>mutual_knn(feats_A, feats_B, topk)</c>
    /// after <c>compute_score</c>'s row normalisation (inner products of L2-normalised rows are cosines).
    /// Ties between equally near samples are broken arbitrarily. NaN when a representation has no nearest neighbours at
    /// all, every sample exactly as similar to every other (all-zero or all-equal samples; k &lt; n − 1), where
    /// platonic-rep's result is its sort's tie order (1 for two zero matrices).
    /// </summary>
    public static double MutualKnn(Tensor x, Tensor y, int k = 10, KnnMetric metric = KnnMetric.Cosine) =>
        OverSimilarities(x, y, k, metric, (sx, sy, n) => Scalar((NeighbourMask(sx, k) * NeighbourMask(sy, k)).sum()) / (k * (double)n));

    /// <summary>
    /// Cycle k-NN (thesis Table 6.2) in platonic-rep's argument order, <c>cycle_knn(feats_A, feats_B, topk)</c> with
    /// A = <paramref name="x"/>: the fraction of samples i for which some j among i's k nearest neighbours in Y has i
    /// among its own k nearest neighbours in X — the neighbour relation survives the round trip Y → X. Not symmetric
    /// in X and Y. With <see cref="KnnMetric.Cosine"/> (default) it equals platonic-rep's after <c>compute_score</c>'s
    /// row normalisation. NaN when a representation has no nearest neighbours, as for <see cref="MutualKnn"/>.
    /// </summary>
    public static double CycleKnn(Tensor x, Tensor y, int k = 10, KnnMetric metric = KnnMetric.Cosine) =>
        OverSimilarities(x, y, k, metric, (sx, sy, _) =>
        {
            Tensor returns = NeighbourMask(sy, k) * NeighbourMask(sx, k).t(); // [i, j]: j ∈ N_Y(i), i ∈ N_X(j)
            return Scalar((returns.sum(1) > 0).to(ScalarType.Float64).mean());
        });

    // The k-NN scores' common frame: checks the pair and k, computes both similarity matrices in a dispose scope and
    // without gradients, and scores them (given n), or is NaN when either has no nearest neighbours.
    private static double OverSimilarities(Tensor x, Tensor y, int k, KnnMetric metric, Func<Tensor, Tensor, long, double> score)
    {
        long n = CheckPair(x, y, minSamples: 2);
        CheckNeighbours(k, n);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor sx = Similarity(x, metric), sy = Similarity(y, metric);
        return Neighbourless(sx, k) || Neighbourless(sy, k) ? double.NaN : score(sx, sy, n);
    }

    /// <summary>
    /// True when every sample is exactly as similar to every other (an all-zero representation, or one whose samples
    /// are all the same) and k &lt; n − 1: then no sample has nearer neighbours than others, and its k neighbours would be
    /// the tie order. (With k = n − 1 every other sample is a neighbour, and ties do not matter.)
    /// </summary>
    private static bool Neighbourless(Tensor similarity, int k)
    {
        if (k >= similarity.size(0) - 1) return false;
        Tensor others = similarity.clone();
        AtenOps.FillDiagonal(others, double.PositiveInfinity);
        double lowest = Scalar(others.min());
        AtenOps.FillDiagonal(others, double.NegativeInfinity);
        return Scalar(others.max()) == lowest;
    }
}
