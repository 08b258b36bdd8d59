namespace LowRankBias.Torch;

public static partial class torch
{
    /// <summary><c>torch.linalg.*</c>: decompositions, norms and related matrix functions. Inputs may be batched (…×m×n).</summary>
    public static class linalg
    {
        private static readonly Op s_svd = new("aten::linalg_svd"), s_svdvals = new("aten::linalg_svdvals"), s_qr = new("aten::linalg_qr");
        private static readonly Op s_eigh = new("aten::linalg_eigh"), s_eigvalsh = new("aten::linalg_eigvalsh"), s_matrixNormScalar = new("aten::linalg_matrix_norm");
        private static readonly Op s_matrixNormStr = new("aten::linalg_matrix_norm", "str_ord"), s_vectorNorm = new("aten::linalg_vector_norm");
        private static readonly Op s_det = new("aten::linalg_det"), s_slogdet = new("aten::linalg_slogdet");
        private static readonly Op s_pinv = new("aten::linalg_pinv", "atol_rtol_float"), s_matrixRank = new("aten::linalg_matrix_rank", "atol_rtol_float");

        /// <summary>
        /// A = U·diag(S)·Vh with S descending. With <paramref name="full_matrices"/> U is m×m and Vh n×n; otherwise
        /// they are m×k and k×n, k = min(m, n) (the form whose gradient is defined).
        /// </summary>
        public static (Tensor U, Tensor S, Tensor Vh) svd(Tensor A, bool full_matrices = true)
        {
            Tensor[] usv = s_svd.CallMany(A, full_matrices);
            return (usv[0], usv[1], usv[2]);
        }

        /// <summary>Singular values in descending order.</summary>
        public static Tensor svdvals(Tensor A) => s_svdvals.Call(A);

        /// <summary>A = Q·R; <paramref name="mode"/> is "reduced", "complete" or "r" (then Q is empty).</summary>
        public static (Tensor Q, Tensor R) qr(Tensor A, string mode = "reduced")
        {
            Tensor[] qr = s_qr.CallMany(A, mode);
            return (qr[0], qr[1]);
        }

        /// <summary>Eigenvalues (ascending) and orthonormal eigenvectors (columns) of a symmetric matrix, read from its lower ("L") or upper ("U") triangle.</summary>
        public static (Tensor eigenvalues, Tensor eigenvectors) eigh(Tensor A, string UPLO = "L")
        {
            Tensor[] lv = s_eigh.CallMany(A, UPLO);
            return (lv[0], lv[1]);
        }

        /// <summary>Eigenvalues (ascending) of a symmetric matrix, read from its lower ("L") or upper ("U") triangle, without
        /// the eigenvectors (LAPACK's values-only path: several times cheaper than <see cref="eigh"/>).</summary>
        public static Tensor eigvalsh(Tensor A, string UPLO = "L") => s_eigvalsh.Call(A, UPLO);

        /// <summary>Matrix norm named by a string: "fro" (Frobenius) or "nuc" (nuclear, the sum of singular values).</summary>
        public static Tensor matrix_norm(Tensor A, string ord = "fro", long[]? dim = null, bool keepdim = false) =>
            s_matrixNormStr.Call(A, ord, dim ?? [-2, -1], keepdim);

        /// <summary>
        /// Matrix norm of numeric order: 2 / −2 (largest / smallest singular value), 1 / −1 (max / min column abs-sum),
        /// ∞ / −∞ (max / min row abs-sum).
        /// </summary>
        public static Tensor matrix_norm(Tensor A, double ord, long[]? dim = null, bool keepdim = false) =>
            s_matrixNormScalar.Call(A, ord, dim ?? [-2, -1], keepdim);

        /// <summary>(Σ|x|^ord)^(1/ord) over all elements or the given dimensions; ord may be ±∞ or 0 (count of non-zeros).</summary>
        public static Tensor vector_norm(Tensor x, double ord = 2, long[]? dim = null, bool keepdim = false, ScalarType? dtype = null) =>
            s_vectorNorm.Call(x, ord, dim, keepdim, dtype);

        /// <summary>Determinant of a square matrix.</summary>
        public static Tensor det(Tensor A) => s_det.Call(A);

        /// <summary>Sign and log of the absolute value of the determinant (stable where det would under- or overflow).</summary>
        public static (Tensor sign, Tensor logabsdet) slogdet(Tensor A)
        {
            Tensor[] sl = s_slogdet.CallMany(A);
            return (sl[0], sl[1]);
        }

        /// <summary>Moore–Penrose pseudo-inverse; singular values below max(atol, rtol·σ_max) are treated as zero.</summary>
        public static Tensor pinv(Tensor A, double? atol = null, double? rtol = null, bool hermitian = false) =>
            s_pinv.Call(A, atol, rtol, hermitian);

        /// <summary>Number of singular values above max(atol, rtol·σ_max) (int64); the default rtol is eps·max(m, n).</summary>
        public static Tensor matrix_rank(Tensor A, double? atol = null, double? rtol = null, bool hermitian = false) =>
            s_matrixRank.Call(A, atol, rtol, hermitian);
    }
}
