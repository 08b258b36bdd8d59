namespace LowRankBias.Torch;

// Reductions (torch.Tensor methods of the same names). dim = null reduces over every dimension.
public sealed partial class Tensor
{
    private static readonly Op s_sum = new("aten::sum"), s_sumDim = new("aten::sum", "dim_IntList");
    private static readonly Op s_mean = new("aten::mean"), s_meanDim = new("aten::mean", "dim");
    private static readonly Op s_max = new("aten::max"), s_maxDim = new("aten::max", "dim"), s_amax = new("aten::amax");
    private static readonly Op s_min = new("aten::min"), s_minDim = new("aten::min", "dim"), s_amin = new("aten::amin");
    private static readonly Op s_argmax = new("aten::argmax"), s_argmin = new("aten::argmin");
    private static readonly Op s_norm = new("aten::linalg_vector_norm"), s_var = new("aten::var", "correction"), s_std = new("aten::std", "correction");
    private static readonly Op s_prod = new("aten::prod"), s_cumsum = new("aten::cumsum"), s_logsumexp = new("aten::logsumexp");
    private static readonly Op s_all = new("aten::all"), s_any = new("aten::any"), s_sort = new("aten::sort"), s_topk = new("aten::topk");

    /// <summary>Sum of all elements, or over the given dimensions.</summary>
    public Tensor sum(long[]? dim = null, bool keepdim = false, ScalarType? dtype = null) =>
        dim is null ? s_sum.Call(this, dtype) : s_sumDim.Call(this, dim, keepdim, dtype);
    /// <summary>Sum over one dimension.</summary>
    public Tensor sum(long dim, bool keepdim = false) => s_sumDim.Call(this, new[] { dim }, keepdim);
    /// <summary>Mean of all elements, or over the given dimensions.</summary>
    public Tensor mean(long[]? dim = null, bool keepdim = false, ScalarType? dtype = null) =>
        dim is null ? s_mean.Call(this, dtype) : s_meanDim.Call(this, dim, keepdim, dtype);
    /// <summary>Mean over one dimension.</summary>
    public Tensor mean(long dim, bool keepdim = false) => s_meanDim.Call(this, new[] { dim }, keepdim);
    /// <summary>Largest element.</summary>
    public Tensor max() => s_max.Call(this);
    /// <summary>Largest values along a dimension and their indices.</summary>
    public (Tensor values, Tensor indices) max(long dim, bool keepdim = false) => Pair(s_maxDim.CallMany(this, dim, keepdim));
    /// <summary>Largest values over dimensions.</summary>
    public Tensor amax(long[] dim, bool keepdim = false) => s_amax.Call(this, dim, keepdim);
    /// <summary>Smallest element.</summary>
    public Tensor min() => s_min.Call(this);
    /// <summary>Smallest values along a dimension and their indices.</summary>
    public (Tensor values, Tensor indices) min(long dim, bool keepdim = false) => Pair(s_minDim.CallMany(this, dim, keepdim));
    /// <summary>Smallest values over dimensions.</summary>
    public Tensor amin(long[] dim, bool keepdim = false) => s_amin.Call(this, dim, keepdim);
    /// <summary>Index of the largest value (flattened, or along dim).</summary>
    public Tensor argmax(long? dim = null, bool keepdim = false) => s_argmax.Call(this, dim, keepdim);
    /// <summary>Index of the smallest value (flattened, or along dim).</summary>
    public Tensor argmin(long? dim = null, bool keepdim = false) => s_argmin.Call(this, dim, keepdim);
    /// <summary>Vector p-norm of all elements or over dimensions (p = 2 by default; ∞ allowed).</summary>
    public Tensor norm(double p = 2, long[]? dim = null, bool keepdim = false) => s_norm.Call(this, p, dim, keepdim);
    /// <summary>Variance with Bessel's correction by default (correction = 1).</summary>
    public Tensor var(long[]? dim = null, long correction = 1, bool keepdim = false) => s_var.Call(this, dim, correction, keepdim);
    /// <summary>Standard deviation with Bessel's correction by default.</summary>
    public Tensor std(long[]? dim = null, long correction = 1, bool keepdim = false) => s_std.Call(this, dim, correction, keepdim);
    /// <summary>Product of all elements.</summary>
    public Tensor prod() => s_prod.Call(this);
    /// <summary>Cumulative sum along a dimension.</summary>
    public Tensor cumsum(long dim) => s_cumsum.Call(this, dim);
    /// <summary>log Σ exp over dimensions, computed stably.</summary>
    public Tensor logsumexp(long[] dim, bool keepdim = false) => s_logsumexp.Call(this, dim, keepdim);
    /// <summary>True if every element is non-zero.</summary>
    public Tensor all() => s_all.Call(this);
    /// <summary>True if any element is non-zero.</summary>
    public Tensor any() => s_any.Call(this);
    /// <summary>Sorted values and their indices along a dimension.</summary>
    public (Tensor values, Tensor indices) sort(long dim = -1, bool descending = false) => Pair(s_sort.CallMany(this, dim, descending));
    /// <summary>The k largest (or smallest) values and their indices along a dimension.</summary>
    public (Tensor values, Tensor indices) topk(long k, long dim = -1, bool largest = true, bool sorted = true) =>
        Pair(s_topk.CallMany(this, k, dim, largest, sorted));

    private static (Tensor, Tensor) Pair(Tensor[] pair) => (pair[0], pair[1]);
}
