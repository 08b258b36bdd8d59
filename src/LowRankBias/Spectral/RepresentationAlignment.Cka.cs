using LowRankBias.Torch;

namespace LowRankBias.Spectral;

public static partial class RepresentationAlignment
{
    /// <summary>platonic-rep's guard against a zero denominator, kept because it shifts the scores it reports.</summary>
    private const double PlatonicEpsilon = 1e-6;

    /// <summary>
    /// Linear CKA (Kornblith et al. 2019): HSIC(K, L) / √(HSIC(K, K)·HSIC(L, L)) with the biased HSIC tr(KHLH) of the
    /// linear kernels, computed as ‖Y_cᵀX_c‖_F² / (‖X_cᵀX_c‖_F‖Y_cᵀY_c‖_F) on the column-centred features without
    /// forming n × n matrices. <see cref="AlignmentConvention.Platonic"/> (default) matches platonic-rep's
    /// <c>cka(feats_A, feats_B)</c> after <c>compute_score</c>'s row normalisation, ε = 10⁻⁶ added to the denominator;
    /// <see cref="AlignmentConvention.Thesis"/> is thesis eqs. 6.4–6.6 on the raw features, invariant to orthogonal
    /// transforms and isotropic scaling (platonic's also to rescaling single samples). In [0, 1]; NaN for a constant set
    /// under <see cref="AlignmentConvention.Thesis"/>.
    /// </summary>
    public static double LinearCka(Tensor x, Tensor y, AlignmentConvention convention = AlignmentConvention.Platonic)
    {
        CheckPair(x, y, minSamples: 2);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor xc = Centred(Features(x, convention)), yc = Centred(Features(y, convention));
        double cross = Scalar(yc.t().matmul(xc).square().sum());
        double xx = Scalar(xc.t().matmul(xc).norm()), yy = Scalar(yc.t().matmul(yc).norm());
        return cross / (xx * yy + Epsilon(convention));
    }

    /// <summary>
    /// CKA with the unbiased HSIC estimator of Song et al. (2012): with K̃, L̃ the kernels with zeroed diagonals,
    /// HSIC₁ = [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1 / ((n−1)(n−2)) − 2·1ᵀK̃L̃1 / (n−2)] / (n(n−3)). Removes the bias of
    /// <see cref="LinearCka"/> towards 1 when n is small relative to the feature dimension; can be slightly negative.
    /// <see cref="AlignmentConvention.Platonic"/> (default) matches platonic-rep's <c>unbiased_cka</c>: row-normalised
    /// features, uncentred inner-product kernels, ε = 10⁻⁶ in the denominator (NaN when HSIC₁(K, K)·HSIC₁(L, L) &lt; 0);
    /// <see cref="AlignmentConvention.Thesis"/> (thesis Table 6.2) takes the kernels of the column-centred raw
    /// features and is NaN when an HSIC₁(K, K) estimate is not positive. Needs n ≥ 4.
    /// </summary>
    public static double UnbiasedCka(Tensor x, Tensor y, AlignmentConvention convention = AlignmentConvention.Platonic)
    {
        long n = CheckPair(x, y, minSamples: 4);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor k = LinearKernel(x, convention), l = LinearKernel(y, convention);
        double kl = UnbiasedHsic(k, l, n), kk = UnbiasedHsic(k, k, n), ll = UnbiasedHsic(l, l, n);
        if (convention == AlignmentConvention.Platonic) return kl / (Math.Sqrt(kk * ll) + PlatonicEpsilon);
        return kk > 0 && ll > 0 ? kl / Math.Sqrt(kk * ll) : double.NaN;
    }

    /// <summary>
    /// CKA with Gaussian kernels Kᵢⱼ = exp(−‖xᵢ − xⱼ‖² / (2σ²)), as platonic-rep's
    /// <c>cka(feats_A, feats_B, kernel_metric='rbf', rbf_sigma)</c> (with <paramref name="unbiased"/>, its
    /// <c>unbiased_cka</c> with that kernel) after <c>compute_score</c>'s row normalisation: HSIC(K, L) /
    /// (√(HSIC(K, K)·HSIC(L, L)) + 10⁻⁶), HSIC the biased tr(KHLH) (or Song et al.'s unbiased estimate, see
    /// <see cref="UnbiasedCka"/>). σ is a fixed bandwidth, not chosen from the data: platonic-rep's default is 1.0, on
    /// unit-norm rows whose distances lie in [0, 2]. Needs n ≥ 4 when unbiased.
    /// </summary>
    public static double RbfCka(Tensor x, Tensor y, double sigma = 1.0, bool unbiased = false)
    {
        long n = CheckPair(x, y, minSamples: unbiased ? 4 : 2);
        if (!(sigma > 0) || double.IsPositiveInfinity(sigma))
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "the RBF bandwidth sigma must be positive and finite");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor k = RbfKernel(Features(x, AlignmentConvention.Platonic), sigma), l = RbfKernel(Features(y, AlignmentConvention.Platonic), sigma);
        Func<Tensor, Tensor, double> hsic = unbiased ? (a, b) => UnbiasedHsic(a, b, n) : BiasedHsic;
        return hsic(k, l) / (Math.Sqrt(hsic(k, k) * hsic(l, l)) + PlatonicEpsilon);
    }

    private static Tensor RbfKernel(Tensor rows, double sigma) => (-AtenOps.Cdist(rows, rows).square() / (2 * sigma * sigma)).exp();

    /// <summary>tr(KHLH), H = I − 11ᵀ/n, for symmetric kernels: the double-centred K against L.</summary>
    private static double BiasedHsic(Tensor k, Tensor l)
    {
        Tensor centred = k - k.mean(0, keepdim: true) - k.mean(1, keepdim: true) + k.mean();
        return Scalar((centred * l).sum());
    }

    /// <summary>
    /// Centered Kernel Nearest-Neighbour Alignment: CKA restricted to the pairs (i, j), i ≠ j, where j is among i's k
    /// nearest neighbours (the k most similar samples under <paramref name="kernel"/>) in both representations.
    /// <see cref="AlignmentConvention.Platonic"/> (default) matches platonic-rep's <c>cknna(feats_A, feats_B, topk)</c>
    /// with its default <c>unbiased=True</c>: rows L2-normalised (so <see cref="GramKernel.Cosine"/> and
    /// <see cref="GramKernel.Linear"/> coincide), then the unbiased HSIC (see <see cref="UnbiasedCka"/>) of the
    /// masked kernels M⊙K and M⊙L, M the shared-neighbour mask, over √(HSIC₁(M_K⊙K, M_K⊙K)·HSIC₁(M_L⊙L, M_L⊙L)) + 10⁻⁶;
    /// needs k ≥ 2 and n ≥ 4. <see cref="AlignmentConvention.Thesis"/> is thesis eqs. 6.8–6.10 on the raw features:
    /// each kernel centred per row (K̄ᵢⱼ = Kᵢⱼ − mean_l Kᵢₗ), Σ over shared neighbours of K̄ᵢⱼL̄ᵢⱼ normalised by the
    /// same sum over each kernel's own neighbours; |CKNNA| ≤ 1. Both give 1 for identical neighbourhoods and
    /// proportional kernels (up to ε). A kernel that is constant over its neighbourhoods (e.g. of all-zero features)
    /// gives NaN under <see cref="AlignmentConvention.Thesis"/> (0/0) and 0 under <see cref="AlignmentConvention.Platonic"/>,
    /// whose ε makes it 0/ε, as in platonic-rep.
    /// </summary>
    public static double Cknna(Tensor x, Tensor y, int k = 10, GramKernel kernel = GramKernel.Cosine,
        AlignmentConvention convention = AlignmentConvention.Platonic)
    {
        bool platonic = convention == AlignmentConvention.Platonic;
        long n = CheckPair(x, y, minSamples: platonic ? 4 : 2);
        CheckNeighbours(k, n);
        if (platonic && k < 2) throw new ArgumentOutOfRangeException(nameof(k), k, "platonic-rep's CKNNA needs k ≥ 2");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor kx = GramMatrix.Compute(Features(x, convention), kernel), ky = GramMatrix.Compute(Features(y, convention), kernel);
        Tensor maskX = NeighbourMask(kx, k), maskY = NeighbourMask(ky, k);
        if (platonic)
        {
            Tensor shared = maskX * maskY;
            double cross = UnbiasedHsic(shared * kx, shared * ky, n);
            Tensor ownX = maskX * kx, ownY = maskY * ky;
            return cross / (Math.Sqrt(UnbiasedHsic(ownX, ownX, n) * UnbiasedHsic(ownY, ownY, n)) + PlatonicEpsilon);
        }
        Tensor cx = kx - kx.mean(1, keepdim: true), cy = ky - ky.mean(1, keepdim: true);
        double crossThesis = Scalar((maskX * maskY * cx * cy).sum());
        double selfX = Scalar((maskX * cx * cx).sum()), selfY = Scalar((maskY * cy * cy).sum());
        return crossThesis / Math.Sqrt(selfX * selfY);
    }

    /// <summary>The features in float64, each row L2-normalised under <see cref="AlignmentConvention.Platonic"/>
    /// (platonic-rep's <c>F.normalize(x, p=2, dim=-1)</c>, norms clamped below at 10⁻¹²).</summary>
    private static Tensor Features(Tensor features, AlignmentConvention convention)
    {
        Tensor x = features.to(ScalarType.Float64);
        return convention == AlignmentConvention.Platonic ? x / x.norm(2, [1], keepdim: true).clamp(1e-12) : x;
    }

    private static double Epsilon(AlignmentConvention convention) => convention == AlignmentConvention.Platonic ? PlatonicEpsilon : 0;

    /// <summary>The features with each column's mean removed.</summary>
    private static Tensor Centred(Tensor x) => x - x.mean(0, keepdim: true);

    /// <summary>X Xᵀ: of the row-normalised features (platonic-rep), or of the column-centred ones (thesis).</summary>
    private static Tensor LinearKernel(Tensor features, AlignmentConvention convention)
    {
        Tensor x = Features(features, convention);
        if (convention == AlignmentConvention.Thesis) x = Centred(x);
        return x.matmul(x.t());
    }

    /// <summary>Song et al.'s unbiased HSIC₁ of two n × n kernels, which need not be symmetric (CKNNA's masked ones
    /// are not): the diagonals are zeroed here, tr(K̃L̃) = Σ K̃ ⊙ L̃ᵀ and 1ᵀK̃L̃1 = Σⱼ (1ᵀK̃)ⱼ(L̃1)ⱼ.</summary>
    private static double UnbiasedHsic(Tensor k, Tensor l, long n)
    {
        Tensor kt = k.clone(), lt = l.clone();
        AtenOps.FillDiagonal(kt, 0);
        AtenOps.FillDiagonal(lt, 0);
        double trace = Scalar((kt * lt.t()).sum());
        double sums = Scalar(kt.sum()) * Scalar(lt.sum());
        double middle = Scalar((kt.sum(0) * lt.sum(1)).sum());
        return (trace + sums / ((n - 1.0) * (n - 2)) - 2 * middle / (n - 2.0)) / (n * (n - 3.0));
    }
}
