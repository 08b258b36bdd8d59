using LowRankBias.Torch.Native;

namespace LowRankBias.Torch;

// Views, reshapes, joins and indexing (torch.Tensor methods of the same names).
public sealed partial class Tensor
{
    private static readonly Op s_reshape = new("aten::reshape"), s_view = new("aten::view"), s_permute = new("aten::permute");
    private static readonly Op s_transpose = new("aten::transpose", "int"), s_t = new("aten::t"), s_contiguous = new("aten::contiguous");
    private static readonly Op s_narrow = new("aten::narrow"), s_select = new("aten::select", "int"), s_slice = new("aten::slice", "Tensor");
    private static readonly Op s_indexSelect = new("aten::index_select"), s_gather = new("aten::gather"), s_index = new("aten::index", "Tensor");
    private static readonly Op s_squeeze = new("aten::squeeze"), s_squeezeDim = new("aten::squeeze", "dim"), s_unsqueeze = new("aten::unsqueeze");
    private static readonly Op s_flatten = new("aten::flatten", "using_ints"), s_expand = new("aten::expand"), s_repeat = new("aten::repeat");
    private static readonly Op s_split = new("aten::split", "Tensor"), s_splitSizes = new("aten::split_with_sizes"), s_chunk = new("aten::chunk");
    private static readonly Op s_unbind = new("aten::unbind", "int"), s_maskedFill = new("aten::masked_fill", "Scalar");
    private static readonly Op s_scatter = new("aten::scatter", "src"), s_diagonal = new("aten::diagonal"), s_tril = new("aten::tril"), s_triu = new("aten::triu");
    private static readonly Op s_flip = new("aten::flip"), s_roll = new("aten::roll"), s_expandAs = new("aten::expand_as");

    /// <summary>Same data, new shape (−1 infers one dimension); copies only when it must.</summary>
    public Tensor reshape(params long[] shape) => s_reshape.Call(this, shape);
    /// <summary>Same data, new shape; the tensor must be viewable (see <see cref="contiguous"/>).</summary>
    public Tensor view(params long[] shape) => s_view.Call(this, shape);
    /// <summary>Reorders dimensions.</summary>
    public Tensor permute(params long[] dims) => s_permute.Call(this, dims);
    /// <summary>Swaps two dimensions.</summary>
    public Tensor transpose(long dim0, long dim1) => s_transpose.Call(this, dim0, dim1);
    /// <summary>Transpose of a matrix.</summary>
    public Tensor t() => s_t.Call(this);
    /// <summary>Transpose of a matrix (property form).</summary>
    public Tensor T => t();
    /// <summary>Transpose of the last two dimensions.</summary>
    public Tensor mT => transpose(-2, -1);
    /// <summary>Whether the elements lie in memory in row-major order without gaps.</summary>
    public bool is_contiguous() { bool r = NativeMethods.lrb_tensor_is_contiguous(Handle) != 0; GC.KeepAlive(this); return r; }

    /// <summary>A contiguous tensor with the same values.</summary>
    public Tensor contiguous() => s_contiguous.Call(this);
    /// <summary>The slice [start, start+length) along a dimension (a view).</summary>
    public Tensor narrow(long dim, long start, long length) => s_narrow.Call(this, dim, start, length);
    /// <summary>The slice [start, end) with step along a dimension (a view); null end means to the end.</summary>
    public Tensor slice(long dim, long? start = null, long? end = null, long step = 1) => s_slice.Call(this, dim, start, end, step);
    /// <summary>Index <paramref name="index"/> of a dimension, which is removed (a view).</summary>
    public Tensor select(long dim, long index) => s_select.Call(this, dim, index);
    /// <summary><c>x[i]</c>: the i-th slice of the first dimension.</summary>
    public Tensor this[long index] => select(0, index);
    /// <summary>Entries along <paramref name="dim"/> at the given int64 indices.</summary>
    public Tensor index_select(long dim, Tensor index) => s_indexSelect.Call(this, dim, index);
    /// <summary>Advanced indexing <c>x[i0, i1, …]</c> with index tensors (null skips a dimension).</summary>
    public Tensor index(params Tensor?[] indices) => s_index.Call(this, Arg.OptionalTensors(indices));
    /// <summary>Gathers values along a dimension at int64 indices shaped like the output.</summary>
    public Tensor gather(long dim, Tensor index) => s_gather.Call(this, dim, index);
    /// <summary>Writes <paramref name="src"/> into a copy of this tensor at the given indices along dim.</summary>
    public Tensor scatter(long dim, Tensor index, Tensor src) => s_scatter.Call(this, dim, index, src);
    /// <summary>Removes size-1 dimensions (all of them, or just <paramref name="dim"/>).</summary>
    public Tensor squeeze(long? dim = null) => dim is null ? s_squeeze.Call(this) : s_squeezeDim.Call(this, dim.Value);
    /// <summary>Inserts a size-1 dimension.</summary>
    public Tensor unsqueeze(long dim) => s_unsqueeze.Call(this, dim);
    /// <summary>Merges dimensions start_dim … end_dim into one.</summary>
    public Tensor flatten(long start_dim = 0, long end_dim = -1) => s_flatten.Call(this, start_dim, end_dim);
    /// <summary>Broadcasts size-1 dimensions to the given sizes (−1 keeps a size), without copying.</summary>
    public Tensor expand(params long[] sizes) => s_expand.Call(this, sizes);
    /// <summary>Broadcasts to <paramref name="other"/>'s shape.</summary>
    public Tensor expand_as(Tensor other) => s_expandAs.Call(this, other);
    /// <summary>Tiles the tensor.</summary>
    public Tensor repeat(params long[] repeats) => s_repeat.Call(this, repeats);
    /// <summary>Pieces of <paramref name="size"/> along a dimension (the last may be smaller).</summary>
    public Tensor[] split(long size, long dim = 0) => s_split.CallMany(this, size, dim);
    /// <summary>Pieces with the given sizes along a dimension.</summary>
    public Tensor[] split(long[] sizes, long dim = 0) => s_splitSizes.CallMany(this, sizes, dim);
    /// <summary><paramref name="chunks"/> nearly equal pieces along a dimension.</summary>
    public Tensor[] chunk(long chunks, long dim = 0) => s_chunk.CallMany(this, chunks, dim);
    /// <summary>The slices along a dimension, which is removed.</summary>
    public Tensor[] unbind(long dim = 0) => s_unbind.CallMany(this, dim);
    /// <summary>A copy with <paramref name="value"/> where <paramref name="mask"/> is true.</summary>
    public Tensor masked_fill(Tensor mask, double value) => s_maskedFill.Call(this, mask, value);
    /// <summary>Diagonal of the last two dimensions (or the given ones).</summary>
    public Tensor diagonal(long offset = 0, long dim1 = 0, long dim2 = 1) => s_diagonal.Call(this, offset, dim1, dim2);
    /// <summary>Lower triangle (entries above the given diagonal zeroed).</summary>
    public Tensor tril(long diagonal = 0) => s_tril.Call(this, diagonal);
    /// <summary>Upper triangle.</summary>
    public Tensor triu(long diagonal = 0) => s_triu.Call(this, diagonal);
    /// <summary>Reverses the order along the given dimensions.</summary>
    public Tensor flip(params long[] dims) => s_flip.Call(this, dims);
    /// <summary>Rolls entries along dimensions.</summary>
    public Tensor roll(long[] shifts, long[] dims) => s_roll.Call(this, shifts, dims);
}
