using LowRankBias.Torch.Native;

namespace LowRankBias.Torch;

// Moving between devices and dtypes, copying and detaching.
public sealed partial class Tensor
{
    private static readonly Op s_toDtype = new("aten::to", "dtype"), s_toDevice = new("aten::to", "device");
    private static readonly Op s_toMkldnn = new("aten::to_mkldnn"), s_toDense = new("aten::to_dense");
    private static readonly Op s_clone = new("aten::clone"), s_detach = new("aten::detach"), s_copy_ = new("aten::copy_");

    /// <summary>This tensor converted to another element type (itself, aliased, when it already has it).</summary>
    public Tensor to(ScalarType type, bool non_blocking = false, bool copy = false) => s_toDtype.Call(this, type, non_blocking, copy);

    /// <summary>This tensor on another device, optionally with another element type.</summary>
    public Tensor to(Device target, ScalarType? type = null, bool non_blocking = false, bool copy = false) =>
        s_toDevice.Call(this, target, type ?? dtype, non_blocking, copy);

    /// <summary>This tensor on the host.</summary>
    public Tensor cpu() => to(Device.CPU);
    /// <summary>This tensor on a CUDA device.</summary>
    public Tensor cuda(int index = -1) => to(Device.CUDA(index));
    /// <summary>float32 copy.</summary>
    public Tensor @float() => to(ScalarType.Float32);
    /// <summary>float64 copy.</summary>
    public Tensor @double() => to(ScalarType.Float64);
    /// <summary>int64 copy.</summary>
    public Tensor @long() => to(ScalarType.Int64);
    /// <summary>bfloat16 copy.</summary>
    public Tensor bfloat16() => to(ScalarType.BFloat16);
    /// <summary>float16 copy.</summary>
    public Tensor half() => to(ScalarType.Float16);

    /// <summary>
    /// A copy in oneDNN's opaque layout (CPU, float32 or bfloat16), as PyTorch's <c>Tensor.to_mkldnn</c>: the input
    /// of a model converted by <see cref="Modules.MkldnnConv2d.to_mkldnn"/>, whose layers then keep oneDNN's
    /// blocked layout from one to the next instead of converting at every convolution. Such a tensor has sizes but
    /// no strides: read it back with <see cref="to_dense"/> (<c>ToArray</c> does so itself).
    /// </summary>
    public Tensor to_mkldnn() => s_toMkldnn.Call(this);
    /// <summary>A strided copy of a oneDNN tensor (<see cref="to_mkldnn"/>); PyTorch's <c>Tensor.to_dense</c>.</summary>
    public Tensor to_dense() => s_toDense.Call(this);
    /// <summary>Whether this tensor is in oneDNN's opaque layout (made by <see cref="to_mkldnn"/>).</summary>
    public bool is_mkldnn { get { bool r = NativeMethods.lrb_tensor_is_mkldnn(Handle) != 0; GC.KeepAlive(this); return r; } }

    /// <summary>A copy with its own storage (differentiable).</summary>
    public Tensor clone() => s_clone.Call(this);
    /// <summary>The same data, cut from the autograd graph.</summary>
    public Tensor detach() => s_detach.Call(this);
    /// <summary>Copies <paramref name="source"/>'s values into this tensor (broadcasting), in place.</summary>
    public Tensor copy_(Tensor source, bool non_blocking = false) { s_copy_.CallInPlace(this, source, non_blocking); return this; }
}
