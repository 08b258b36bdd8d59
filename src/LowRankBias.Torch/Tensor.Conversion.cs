namespace LowRankBias.Torch;

// Moving between devices and dtypes, copying and detaching.
public sealed partial class Tensor
{
    private static readonly Op s_toDtype = new("aten::to", "dtype"), s_toDevice = new("aten::to", "device");
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

    /// <summary>A copy with its own storage (differentiable).</summary>
    public Tensor clone() => s_clone.Call(this);
    /// <summary>The same data, cut from the autograd graph.</summary>
    public Tensor detach() => s_detach.Call(this);
    /// <summary>Copies <paramref name="source"/>'s values into this tensor (broadcasting), in place.</summary>
    public Tensor copy_(Tensor source, bool non_blocking = false) { s_copy_.CallInPlace(this, source, non_blocking); return this; }
}
