using LowRankBias.Torch;

namespace LowRankBias.Spectral;

public static partial class RepresentationAlignment
{
    /// <summary>
    /// Linear CKA (Kornblith et al. 2019; thesis eqs. 6.4–6.6): HSIC(K, L) / √(HSIC(K, K)·HSIC(L, L)) for the linear
    /// kernels of the column-centred features, computed as ‖YᵀX‖_F² / (‖XᵀX‖_F‖YᵀY‖_F) without forming n × n matrices.
    /// In [0, 1]; invariant to orthogonal transforms and isotropic scaling of either set. NaN if a set is constant.
    /// </summary>
    public static double LinearCka(Tensor x, Tensor y)
    {
        CheckPair(x, y, minSamples: 2);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor xc = Centred(x), yc = Centred(y);
        double cross = Scalar(yc.t().matmul(xc).square().sum());
        double xx = Scalar(xc.t().matmul(xc).norm()), yy = Scalar(yc.t().matmul(yc).norm());
        return cross / (xx * yy);
    }

    /// <summary>
    /// CKA with the unbiased HSIC estimator of Song et al. (2012) on the linear kernels of the column-centred features
    /// (thesis Table 6.2): with K̃, L̃ the kernels with zeroed diagonals, HSIC₁ = [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1 / ((n−1)(n−2)) − 2·1ᵀK̃L̃1 / (n−2)] / (n(n−3)).
    /// Removes the bias of <see cref="LinearCka"/> towards 1 when n is small relative to the feature dimension; can be
    /// slightly negative, and NaN when an HSIC₁(K, K) estimate is not positive. Needs n ≥ 4.
    /// </summary>
    public static double UnbiasedCka(Tensor x, Tensor y)
    {
        long n = CheckPair(x, y, minSamples: 4);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor k = OffDiagonalLinearKernel(x), l = OffDiagonalLinearKernel(y);
        double kl = UnbiasedHsic(k, l, n), kk = UnbiasedHsic(k, k, n), ll = UnbiasedHsic(l, l, n);
        return kk > 0 && ll > 0 ? kl / Math.Sqrt(kk * ll) : double.NaN;
    }

    /// <summary>
    /// Centered Kernel Nearest-Neighbour Alignment (thesis eqs. 6.8–6.10): CKA's cross-covariance restricted to pairs
    /// (i, j), i ≠ j, where j is among i's k nearest neighbours in both representations, with each kernel centred per
    /// row (K̄ᵢⱼ = Kᵢⱼ − mean_l Kᵢₗ, eq. 6.4); normalised by the same sum over each kernel's own neighbours. Neighbours
    /// are the k most similar samples under <paramref name="kernel"/>. 1 for identical neighbourhoods and
    /// proportional kernels; |CKNNA| ≤ 1. Approaches (though does not equal) CKA as k → n − 1. NaN if a kernel is
    /// constant over its neighbourhoods.
    /// </summary>
    public static double Cknna(Tensor x, Tensor y, int k = 10, GramKernel kernel = GramKernel.Cosine)
    {
        long n = CheckPair(x, y, minSamples: 2);
        CheckNeighbours(k, n);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor kx = GramMatrix.Compute(x.to(ScalarType.Float64), kernel), ky = GramMatrix.Compute(y.to(ScalarType.Float64), kernel);
        Tensor maskX = NeighbourMask(kx, k), maskY = NeighbourMask(ky, k);
        Tensor cx = kx - kx.mean(1, keepdim: true), cy = ky - ky.mean(1, keepdim: true);
        double cross = Scalar((maskX * maskY * cx * cy).sum());
        double selfX = Scalar((maskX * cx * cx).sum()), selfY = Scalar((maskY * cy * cy).sum());
        return cross / Math.Sqrt(selfX * selfY);
    }

    /// <summary>The features in float64 with each column's mean removed.</summary>
    private static Tensor Centred(Tensor features)
    {
        Tensor x = features.to(ScalarType.Float64);
        return x - x.mean(0, keepdim: true);
    }

    private static Tensor OffDiagonalLinearKernel(Tensor features)
    {
        Tensor x = Centred(features);
        Tensor kernel = x.matmul(x.t());
        AtenOps.FillDiagonal(kernel, 0);
        return kernel;
    }

    private static double UnbiasedHsic(Tensor k, Tensor l, long n)
    {
        double trace = Scalar((k * l).sum());
        double sums = Scalar(k.sum()) * Scalar(l.sum());
        double middle = Scalar((k.sum(0) * l.sum(1)).sum()); // 1ᵀK̃L̃1
        return (trace + sums / ((n - 1.0) * (n - 2)) - 2 * middle / (n - 2.0)) / (n * (n - 3.0));
    }
}
