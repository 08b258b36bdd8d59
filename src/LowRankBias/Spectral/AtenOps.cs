using LowRankBias.Torch;

namespace LowRankBias.Spectral;

// The few ATen operators the spectral code needs that the engine (LowRankBias.Torch) does not wrap yet. Kept in one
// place so each can be swapped for an engine wrapper once one exists.
internal static class AtenOps
{
    private static readonly Op s_allDim = new("aten::all", "dim");
    private static readonly Op s_scatterValue = new("aten::scatter", "value"), s_fillDiagonal = new("aten::fill_diagonal_");
    private static readonly Op s_cdist = new("aten::cdist"), s_acos = new("aten::acos");

    /// <summary>True where every entry along <paramref name="dim"/> is true.</summary>
    public static Tensor All(Tensor condition, long dim) => s_allDim.Call(condition, dim, false);

    /// <summary>A copy of <paramref name="target"/> with <paramref name="value"/> written at the indices along dim.</summary>
    public static Tensor ScatterValue(Tensor target, long dim, Tensor index, double value) => s_scatterValue.Call(target, dim, index, value);

    /// <summary>Overwrites the main diagonal of a matrix in place.</summary>
    public static void FillDiagonal(Tensor matrix, double value) => s_fillDiagonal.CallInPlace(matrix, value);

    /// <summary>Pairwise Euclidean distances between the rows of x and y.</summary>
    public static Tensor Cdist(Tensor x, Tensor y) => s_cdist.Call(x, y, 2.0);

    public static Tensor Acos(Tensor x) => s_acos.Call(x);
}
