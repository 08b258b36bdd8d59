using LowRankBias.Torch;

namespace LowRankBias.Spectral;

public static partial class RepresentationAlignment
{
    /// <summary>
    /// Mutual k-nearest-neighbour alignment m_NN (thesis eqs. 6.1–6.3): the mean over samples i of
    /// |S_k(xᵢ) ∩ S_k(yᵢ)| / k, where S_k are i's k nearest other samples in each representation. 1 when the
    /// neighbourhoods agree (e.g. Y a rotated and scaled copy of X), about k/(n−1) for unrelated representations.
    /// Ties between equally near samples are broken arbitrarily.
    /// </summary>
    public static double MutualKnn(Tensor x, Tensor y, int k = 10, KnnMetric metric = KnnMetric.Cosine)
    {
        long n = CheckPair(x, y, minSamples: 2);
        CheckNeighbours(k, n);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor shared = NeighbourMask(Similarity(x, metric), k) * NeighbourMask(Similarity(y, metric), k);
        return Scalar(shared.sum()) / (k * (double)n);
    }

    /// <summary>
    /// Cycle k-NN (thesis Table 6.2): the fraction of samples i for which some j among i's k nearest neighbours in X
    /// has i among its own k nearest neighbours in Y, i.e. the neighbour relation survives a round trip X → Y.
    /// Not symmetric in X and Y.
    /// </summary>
    public static double CycleKnn(Tensor x, Tensor y, int k = 10, KnnMetric metric = KnnMetric.Cosine)
    {
        long n = CheckPair(x, y, minSamples: 2);
        CheckNeighbours(k, n);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor returns = NeighbourMask(Similarity(x, metric), k) * NeighbourMask(Similarity(y, metric), k).t();
        Tensor cycled = returns.sum(1) > 0;
        return Scalar(cycled.to(ScalarType.Float64).mean());
    }
}
