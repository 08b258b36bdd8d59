using LowRankBias.Torch;

namespace LowRankBias.Spectral;

// The few ATen operators the spectral code needs that Tensor does not wrap yet. Kept in one place so they can
// be swapped for torch.linalg / torch.cat wrappers once those exist.
internal static class AtenOps
{
    private static readonly Op s_svdvals = new("aten::linalg_svdvals"), s_svd = new("aten::linalg_svd");
    private static readonly Op s_qr = new("aten::linalg_qr"), s_cat = new("aten::cat"), s_stack = new("aten::stack");
    private static readonly Op s_allDim = new("aten::all", "dim"), s_whereScalar = new("aten::where", "ScalarOther");
    private static readonly Op s_scatterValue = new("aten::scatter", "value"), s_fillDiagonal = new("aten::fill_diagonal_");
    private static readonly Op s_cdist = new("aten::cdist"), s_acos = new("aten::acos");

    /// <summary>Singular values of each matrix in [..., m, n], descending.</summary>
    public static Tensor Svdvals(Tensor matrices) => s_svdvals.Call(matrices);

    /// <summary>Reduced SVD (U, S, Vh) of each matrix in [..., m, n].</summary>
    public static (Tensor U, Tensor S, Tensor Vh) Svd(Tensor matrices)
    {
        Tensor[] usv = s_svd.CallMany(matrices, false);
        return (usv[0], usv[1], usv[2]);
    }

    /// <summary>Reduced QR: Q with orthonormal columns, R upper triangular.</summary>
    public static (Tensor Q, Tensor R) Qr(Tensor matrices)
    {
        Tensor[] qr = s_qr.CallMany(matrices, "reduced");
        return (qr[0], qr[1]);
    }

    public static Tensor Cat(Tensor[] tensors, long dim = 0) => s_cat.Call(tensors, dim);

    public static Tensor Stack(Tensor[] tensors, long dim = 0) => s_stack.Call(tensors, dim);

    /// <summary>True where every entry along <paramref name="dim"/> is true.</summary>
    public static Tensor All(Tensor condition, long dim) => s_allDim.Call(condition, dim, false);

    /// <summary>x where condition holds, otherwise the scalar.</summary>
    public static Tensor Where(Tensor condition, Tensor x, double otherwise) => s_whereScalar.Call(condition, x, otherwise);

    /// <summary>A copy of <paramref name="target"/> with <paramref name="value"/> written at the indices along dim.</summary>
    public static Tensor ScatterValue(Tensor target, long dim, Tensor index, double value) => s_scatterValue.Call(target, dim, index, value);

    /// <summary>Overwrites the main diagonal of a matrix in place.</summary>
    public static void FillDiagonal(Tensor matrix, double value) => s_fillDiagonal.CallInPlace(matrix, value);

    /// <summary>Pairwise Euclidean distances between the rows of x and y.</summary>
    public static Tensor Cdist(Tensor x, Tensor y) => s_cdist.Call(x, y, 2.0);

    public static Tensor Acos(Tensor x) => s_acos.Call(x);
}
