namespace LowRankBias.Torch;

// Matrix and vector products beyond mm/matmul (which take the fast typed path in Tensor.Operators.cs).
public sealed partial class Tensor
{
    private static readonly Op s_bmm = new("aten::bmm"), s_outer = new("aten::outer"), s_dot = new("aten::dot");

    /// <summary>Batched matrix product of 3-D tensors (b×n×m · b×m×p).</summary>
    public Tensor bmm(Tensor mat2) => s_bmm.Call(this, mat2);

    /// <summary>Outer product of two vectors.</summary>
    public Tensor outer(Tensor vec2) => s_outer.Call(this, vec2);

    /// <summary>Inner product of two vectors of equal length.</summary>
    public Tensor dot(Tensor other) => s_dot.Call(this, other);
}
