namespace LowRankBias.Torch;

public static partial class torch
{
    /// <summary>
    /// <c>torch.svd_lowrank</c> (without the mean argument M): a rank-<paramref name="q"/> approximation
    /// A ≈ U·diag(S)·Vᵀ of an m×n matrix by randomized subspace iteration (Halko, Martinsson and Tropp 2009,
    /// algorithm 5.1), following PyTorch's <c>torch/_lowrank.py</c> step for step: a Gaussian test matrix from the global
    /// generator, <paramref name="niter"/> pairs of QR-orthonormalised products with Aᵀ and A, then the SVD of the small
    /// projected matrix. Returns U [m, q], S [q] (descending), V [n, q] — V, not Vh, as PyTorch does. Costs O(m·n·q) per
    /// iteration instead of a full SVD's O(m·n·min(m, n)); accurate where the spectrum decays beyond q.
    /// </summary>
    public static (Tensor U, Tensor S, Tensor V) svd_lowrank(Tensor A, int q = 6, int niter = 2)
    {
        ArgumentNullException.ThrowIfNull(A);
        if (A.dim() != 2) throw new ArgumentException($"svd_lowrank takes a matrix, got shape [{string.Join(", ", A.shape)}]", nameof(A));
        long m = A.size(0), n = A.size(1);
        if (q < 1 || q > Math.Min(m, n))
            throw new ArgumentOutOfRangeException(nameof(q), q, $"svd_lowrank needs 1 <= q <= min(m, n) = {Math.Min(m, n)}");
        if (niter < 0) throw new ArgumentOutOfRangeException(nameof(niter), niter, "the number of subspace iterations must be >= 0");
        using var scope = NewDisposeScope();
        Tensor U, S, V;
        if (m < n || n > q)
        {
            // Approximate the row space (a basis of Aᵀ's range), so that the small matrix A·Q is m×q.
            Tensor Q = ApproximateBasis(A.t(), q, niter);
            (Tensor u, Tensor s, Tensor vh) = linalg.svd(A.mm(Q), full_matrices: false);
            (U, S, V) = (u, s, Q.mm(vh.t()));
        }
        else
        {
            Tensor Q = ApproximateBasis(A, q, niter);
            (Tensor u, Tensor s, Tensor vh) = linalg.svd(Q.t().mm(A), full_matrices: false);
            (U, S, V) = (Q.mm(u), s, vh.t());
        }
        return (U.MoveToOuterDisposeScope(), S.MoveToOuterDisposeScope(), V.MoveToOuterDisposeScope());
    }

    // PyTorch's get_approximate_basis: an orthonormal m×q basis Q of A's dominant range.
    private static Tensor ApproximateBasis(Tensor A, int q, int niter)
    {
        Tensor R = randn([A.size(1), q], A.dtype, A.device);
        Tensor Q = linalg.qr(A.mm(R)).Q;
        Tensor At = A.t();
        for (int i = 0; i < niter; i++)
        {
            Q = linalg.qr(At.mm(Q)).Q;
            Q = linalg.qr(A.mm(Q)).Q;
        }
        return Q;
    }
}
