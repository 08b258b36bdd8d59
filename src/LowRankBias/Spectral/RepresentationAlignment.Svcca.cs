using LowRankBias.Torch;

namespace LowRankBias.Spectral;

public static partial class RepresentationAlignment
{
    /// <summary>
    /// SVCCA (Raghu et al. 2017; thesis Table 6.2): centre each feature set, keep its top singular directions over the
    /// samples (enough to explain <paramref name="varianceKept"/> of the variance, or exactly
    /// <paramref name="directions"/>), then return the mean canonical correlation between the two kept subspaces
    /// (the singular values of U_xᵀU_y, one per direction of the smaller subspace). In [0, 1]; 1 when Y is an
    /// invertible linear map of X. When the kept dimensions approach n the subspaces must overlap and the score
    /// drifts to 1 regardless, so use n well above d₁ + d₂. This is the definition of Raghu et al.; platonic-rep's
    /// <c>svcca</c> differs (it standardises each column, keeps a fixed number of randomized-SVD directions and runs
    /// scikit-learn's iterative CCA with added noise), so its scores are not reproduced exactly.
    /// </summary>
    public static double Svcca(Tensor x, Tensor y, double varianceKept = 0.99, int? directions = null)
    {
        CheckPair(x, y, minSamples: 2);
        if (!(varianceKept > 0 && varianceKept <= 1)) throw new ArgumentOutOfRangeException(nameof(varianceKept), varianceKept, "must lie in (0, 1]");
        if (directions is < 1) throw new ArgumentOutOfRangeException(nameof(directions), directions, "must be at least 1");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor ux = TopDirections(Centred(x.to(ScalarType.Float64)), varianceKept, directions, nameof(x));
        Tensor uy = TopDirections(Centred(y.to(ScalarType.Float64)), varianceKept, directions, nameof(y));
        Tensor correlations = AtenOps.Svdvals(ux.t().matmul(uy)).clamp(max: 1);
        return Scalar(correlations.mean());
    }

    /// <summary>Orthonormal basis [n, r] of the top-r left singular directions of the centred features.</summary>
    private static Tensor TopDirections(Tensor centred, double varianceKept, int? directions, string parameter)
    {
        (Tensor u, Tensor s, Tensor _) = AtenOps.Svd(centred);
        double[] energy = s.square().ToArray<double>();
        double total = energy.Sum();
        if (total == 0) throw new ArgumentException("the features are constant over the samples: no directions to correlate", parameter);
        int keep = 0;
        if (directions is { } d) keep = Math.Min(d, energy.Length);
        else for (double covered = 0; covered < varianceKept * total && keep < energy.Length; keep++) covered += energy[keep];
        return u.narrow(1, 0, keep);
    }
}
