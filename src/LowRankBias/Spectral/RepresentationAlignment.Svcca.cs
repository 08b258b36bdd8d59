using LowRankBias.Torch;

namespace LowRankBias.Spectral;

public static partial class RepresentationAlignment
{
    /// <summary>platonic-rep's <c>cca_dim</c> default: the number of singular directions SVCCA keeps.</summary>
    public const int PlatonicCcaDim = 10;

    /// <summary>
    /// SVCCA (Raghu et al. 2017; thesis Table 6.2): centre each feature set, keep its top singular directions over the
    /// samples, then return the mean canonical correlation between the two kept subspaces (the singular values of
    /// U_xᵀU_y, one per direction of the smaller subspace). In [0, 1]; 1 when Y is an invertible linear map of X.
    /// <see cref="AlignmentConvention.Platonic"/> (default) follows platonic-rep's <c>svcca(feats_A, feats_B, cca_dim=10)</c>
    /// after <c>compute_score</c>'s row normalisation: after centring, each column is also divided by its standard deviation (n − 1 in the denominator) + 10⁻⁸, and exactly
    /// <paramref name="directions"/> directions are kept (default <see cref="PlatonicCcaDim"/>, at most min(n, d)).
    /// platonic-rep finds them with a randomized SVD and the correlations with scikit-learn's iterative CCA plus 10⁻¹⁰
    /// noise; this computes the quantities those approximate exactly, so it agrees with a run of platonic-rep to their
    /// accuracy, not to the last digit. <see cref="AlignmentConvention.Thesis"/> is Raghu et al.'s form: no scaling, and
    /// enough directions to explain <paramref name="varianceKept"/> of the variance (or exactly
    /// <paramref name="directions"/>); <paramref name="varianceKept"/> applies to it only. When the kept dimensions
    /// approach n the subspaces must overlap and the score drifts to 1 regardless, so use n well above the kept dimensions.
    /// </summary>
    public static double Svcca(Tensor x, Tensor y, double varianceKept = 0.99, int? directions = null,
        AlignmentConvention convention = AlignmentConvention.Platonic)
    {
        CheckPair(x, y, minSamples: 2);
        if (!(varianceKept > 0 && varianceKept <= 1)) throw new ArgumentOutOfRangeException(nameof(varianceKept), varianceKept, "must lie in (0, 1]");
        if (directions is < 1) throw new ArgumentOutOfRangeException(nameof(directions), directions, "must be at least 1");
        bool platonic = convention == AlignmentConvention.Platonic;
        if (platonic && varianceKept != 0.99)
            throw new ArgumentException("varianceKept applies to AlignmentConvention.Thesis; platonic-rep keeps a fixed number of directions", nameof(varianceKept));
        if (platonic) directions ??= PlatonicCcaDim;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor ux = TopDirections(SvccaInput(x, platonic), varianceKept, directions, nameof(x));
        Tensor uy = TopDirections(SvccaInput(y, platonic), varianceKept, directions, nameof(y));
        Tensor correlations = torch.linalg.svdvals(ux.t().matmul(uy)).clamp(max: 1);
        return Scalar(correlations.mean());
    }

    /// <summary>The centred float64 features; for platonic-rep rows L2-normalised first (<c>compute_score</c>) and each
    /// column scaled to unit standard deviation.</summary>
    private static Tensor SvccaInput(Tensor features, bool platonic)
    {
        Tensor centred = Centred(Features(features, platonic ? AlignmentConvention.Platonic : AlignmentConvention.Thesis));
        if (!platonic) return centred;
        long n = centred.size(0);
        Tensor std = (centred.square().sum(0, keepdim: true) / Math.Max(n - 1, 1)).sqrt();
        return centred / (std + 1e-8);
    }

    /// <summary>Orthonormal basis [n, r] of the top-r left singular directions of the centred features.</summary>
    private static Tensor TopDirections(Tensor centred, double varianceKept, int? directions, string parameter)
    {
        (Tensor u, Tensor s, Tensor _) = torch.linalg.svd(centred, full_matrices: false);
        double[] energy = s.square().ToArray<double>();
        double total = energy.Sum();
        if (total == 0) throw new ArgumentException("the features are constant over the samples: no directions to correlate", parameter);
        int keep = 0;
        if (directions is { } d) keep = Math.Min(d, energy.Length);
        else for (double covered = 0; covered < varianceKept * total && keep < energy.Length; keep++) covered += energy[keep];
        return u.narrow(1, 0, keep);
    }
}
