namespace LowRankBias.Torch;

// Free functions of torch.*: joins, selection, the matrix-product family, comparison, and free forms of the
// common Tensor methods (torch.exp(x) == x.exp()).
public static partial class torch
{
    private static readonly Op s_cat = new("aten::cat"), s_stack = new("aten::stack"), s_einsum = new("aten::einsum");
    private static readonly Op s_where = new("aten::where", "self"), s_whereScalarOther = new("aten::where", "ScalarOther");
    private static readonly Op s_whereScalarSelf = new("aten::where", "ScalarSelf");
    private static readonly Op s_addmm = new("aten::addmm"), s_baddbmm = new("aten::baddbmm"), s_allclose = new("aten::allclose");

    // ---- joins and selection ---------------------------------------------------------------------------

    /// <summary>Concatenates tensors along an existing dimension; all other sizes must match.</summary>
    public static Tensor cat(Tensor[] tensors, long dim = 0) => s_cat.Call(tensors, dim);

    /// <summary>Stacks equally shaped tensors along a new dimension.</summary>
    public static Tensor stack(Tensor[] tensors, long dim = 0) => s_stack.Call(tensors, dim);

    /// <summary>Elementwise <paramref name="input"/> where <paramref name="condition"/> is true, else <paramref name="other"/> (broadcasting).</summary>
    public static Tensor where(Tensor condition, Tensor input, Tensor other) => s_where.Call(condition, input, other);

    /// <summary>Elementwise <paramref name="input"/> where <paramref name="condition"/> is true, else the scalar <paramref name="other"/>.</summary>
    public static Tensor where(Tensor condition, Tensor input, double other) => s_whereScalarOther.Call(condition, input, other);

    /// <summary>Elementwise the scalar <paramref name="input"/> where <paramref name="condition"/> is true, else <paramref name="other"/>.</summary>
    public static Tensor where(Tensor condition, double input, Tensor other) => s_whereScalarSelf.Call(condition, input, other);

    /// <summary>Einstein summation, e.g. <c>einsum("bij,bjk->bik", a, b)</c>.</summary>
    public static Tensor einsum(string equation, params Tensor[] operands) => s_einsum.Call(equation, operands);

    /// <summary>Entries along <paramref name="dim"/> at the given int64 indices.</summary>
    public static Tensor index_select(Tensor input, long dim, Tensor index) => input.index_select(dim, index);

    /// <summary>Gathers values along a dimension at int64 indices shaped like the output.</summary>
    public static Tensor gather(Tensor input, long dim, Tensor index) => input.gather(dim, index);

    /// <summary>A copy with <paramref name="value"/> where <paramref name="mask"/> is true.</summary>
    public static Tensor masked_fill(Tensor input, Tensor mask, double value) => input.masked_fill(mask, value);

    // ---- matrix products -------------------------------------------------------------------------------

    /// <summary>Matrix product of 2-D tensors.</summary>
    public static Tensor mm(Tensor input, Tensor mat2) => input.mm(mat2);

    /// <summary>Batched matrix product of 3-D tensors (b×n×m · b×m×p).</summary>
    public static Tensor bmm(Tensor input, Tensor mat2) => input.bmm(mat2);

    /// <summary>Matrix product with NumPy broadcasting rules.</summary>
    public static Tensor matmul(Tensor input, Tensor other) => input.matmul(other);

    /// <summary>Outer product of two vectors.</summary>
    public static Tensor outer(Tensor input, Tensor vec2) => input.outer(vec2);

    /// <summary>beta · input + alpha · (mat1 · mat2), input broadcast to the product's shape.</summary>
    public static Tensor addmm(Tensor input, Tensor mat1, Tensor mat2, double beta = 1, double alpha = 1) =>
        s_addmm.Call(input, mat1, mat2, beta, alpha);

    /// <summary>beta · input + alpha · (batch1 · batch2) for batches of matrices.</summary>
    public static Tensor baddbmm(Tensor input, Tensor batch1, Tensor batch2, double beta = 1, double alpha = 1) =>
        s_baddbmm.Call(input, batch1, batch2, beta, alpha);

    // ---- comparison ------------------------------------------------------------------------------------

    /// <summary>True when |input − other| ≤ atol + rtol·|other| everywhere (shapes broadcast).</summary>
    public static bool allclose(Tensor input, Tensor other, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false) =>
        s_allclose.CallScalar(input, other, rtol, atol, equal_nan) != 0;

    // ---- free forms of Tensor methods -------------------------------------------------------------------

    /// <summary>eˣ</summary>
    public static Tensor exp(Tensor input) => input.exp();
    /// <summary>Natural logarithm.</summary>
    public static Tensor log(Tensor input) => input.log();
    /// <summary>Square root.</summary>
    public static Tensor sqrt(Tensor input) => input.sqrt();
    /// <summary>|x|</summary>
    public static Tensor abs(Tensor input) => input.abs();
    /// <summary>x²</summary>
    public static Tensor square(Tensor input) => input.square();
    /// <summary>xᵉ for a scalar exponent.</summary>
    public static Tensor pow(Tensor input, double exponent) => input.pow(exponent);
    /// <summary>Sine.</summary>
    public static Tensor sin(Tensor input) => input.sin();
    /// <summary>Cosine.</summary>
    public static Tensor cos(Tensor input) => input.cos();
    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor tanh(Tensor input) => input.tanh();
    /// <summary>Logistic sigmoid.</summary>
    public static Tensor sigmoid(Tensor input) => input.sigmoid();
    /// <summary>max(x, 0)</summary>
    public static Tensor relu(Tensor input) => input.relu();
    /// <summary>Clamps into [min, max]; a null bound is open.</summary>
    public static Tensor clamp(Tensor input, double? min = null, double? max = null) => input.clamp(min, max);
    /// <summary>Elementwise maximum.</summary>
    public static Tensor maximum(Tensor input, Tensor other) => input.maximum(other);
    /// <summary>Elementwise minimum.</summary>
    public static Tensor minimum(Tensor input, Tensor other) => input.minimum(other);
    /// <summary>Softmax along a dimension.</summary>
    public static Tensor softmax(Tensor input, long dim, ScalarType? dtype = null) => input.softmax(dim, dtype);
    /// <summary>log(softmax) along a dimension, computed stably.</summary>
    public static Tensor log_softmax(Tensor input, long dim, ScalarType? dtype = null) => input.log_softmax(dim, dtype);

    /// <summary>Sum of all elements, or over the given dimensions.</summary>
    public static Tensor sum(Tensor input, long[]? dim = null, bool keepdim = false) => input.sum(dim, keepdim);
    /// <summary>Mean of all elements, or over the given dimensions.</summary>
    public static Tensor mean(Tensor input, long[]? dim = null, bool keepdim = false) => input.mean(dim, keepdim);
    /// <summary>Largest element.</summary>
    public static Tensor max(Tensor input) => input.max();
    /// <summary>Largest values along a dimension and their indices.</summary>
    public static (Tensor values, Tensor indices) max(Tensor input, long dim, bool keepdim = false) => input.max(dim, keepdim);
    /// <summary>Smallest element.</summary>
    public static Tensor min(Tensor input) => input.min();
    /// <summary>Smallest values along a dimension and their indices.</summary>
    public static (Tensor values, Tensor indices) min(Tensor input, long dim, bool keepdim = false) => input.min(dim, keepdim);
    /// <summary>Index of the largest value (flattened, or along dim).</summary>
    public static Tensor argmax(Tensor input, long? dim = null, bool keepdim = false) => input.argmax(dim, keepdim);
    /// <summary>log Σ exp over dimensions, computed stably.</summary>
    public static Tensor logsumexp(Tensor input, long[] dim, bool keepdim = false) => input.logsumexp(dim, keepdim);

    // ---- free forms of shape methods --------------------------------------------------------------------

    /// <summary>Same data, new shape (−1 infers one dimension).</summary>
    public static Tensor reshape(Tensor input, params long[] shape) => input.reshape(shape);
    /// <summary>Swaps two dimensions.</summary>
    public static Tensor transpose(Tensor input, long dim0, long dim1) => input.transpose(dim0, dim1);
    /// <summary>Reorders dimensions.</summary>
    public static Tensor permute(Tensor input, params long[] dims) => input.permute(dims);
    /// <summary>Merges dimensions start_dim … end_dim into one.</summary>
    public static Tensor flatten(Tensor input, long start_dim = 0, long end_dim = -1) => input.flatten(start_dim, end_dim);
    /// <summary>Inserts a size-1 dimension.</summary>
    public static Tensor unsqueeze(Tensor input, long dim) => input.unsqueeze(dim);
    /// <summary>Removes size-1 dimensions (all of them, or just <paramref name="dim"/>).</summary>
    public static Tensor squeeze(Tensor input, long? dim = null) => input.squeeze(dim);
    /// <summary>Lower triangle (entries above the given diagonal zeroed).</summary>
    public static Tensor tril(Tensor input, long diagonal = 0) => input.tril(diagonal);
    /// <summary>Upper triangle.</summary>
    public static Tensor triu(Tensor input, long diagonal = 0) => input.triu(diagonal);
}
