using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using LowRankBias.Torch.Native;

namespace LowRankBias.Torch;

/// <summary>
/// A libtorch tensor. Owns one native handle, freed by <see cref="Dispose"/>, by the <see cref="DisposeScope"/>
/// it was created in, or (as a last resort) by the garbage collector. Names follow PyTorch.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    // Null once disposed; never shared, so a disposed tensor cannot reach a recycled handle.
    private TensorHandle? _handle;

    internal Tensor(IntPtr handle)
    {
        _handle = TensorHandle.Rent(handle);
        DisposeScope.Register(this);
    }

    /// <summary>The dispose scope that will free this tensor, if any.</summary>
    internal DisposeScope? Scope { get; set; }

    /// <summary>Number of native tensors alive in this process (for tests and leak diagnostics).</summary>
    public static long LiveCount => TensorHandle.Live;

    /// <summary>The native handle; throws if the tensor was disposed.</summary>
    internal IntPtr Handle
    {
        get
        {
            TensorHandle? handle = _handle;
            ObjectDisposedException.ThrowIf(handle is null, this);
            return handle.Native;
        }
    }

    /// <summary>True once the native tensor has been freed.</summary>
    public bool IsDisposed => _handle is null;

    /// <summary>Frees the native tensor now.</summary>
    public void Dispose()
    {
        Scope?.Release(this);
        // Exactly one caller takes the handle, even when two threads dispose the same tensor.
        Interlocked.Exchange(ref _handle, null)?.Release();
    }

    /// <summary>Hands this tensor to the enclosing scope's outer scope (or to no scope), so it survives this one.</summary>
    public Tensor MoveToOuterDisposeScope()
    {
        DisposeScope? outer = Scope?.Outer;
        if (outer is null) Scope?.Release(this);
        else outer.Adopt(this);
        return this;
    }

    /// <summary>Removes this tensor from its dispose scope: the caller now owns it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        Scope?.Release(this);
        return this;
    }

    // ---- metadata --------------------------------------------------------------------------------------

    /// <summary>Number of dimensions.</summary>
    public int dim() { int d = NativeMethods.lrb_tensor_dim(Handle); GC.KeepAlive(this); return d; }

    /// <summary>Number of dimensions (same as <see cref="dim"/>).</summary>
    public int ndim => dim();

    /// <summary>The sizes of every dimension.</summary>
    public unsafe long[] shape
    {
        get
        {
            var result = new long[dim()];
            fixed (long* p = result) NativeMethods.lrb_tensor_shape(Handle, p);
            GC.KeepAlive(this);
            return result;
        }
    }

    /// <summary>The size of one dimension (negative counts from the end).</summary>
    public long size(int dimension)
    {
        long[] s = shape;
        int d = dimension < 0 ? dimension + s.Length : dimension;
        if (d < 0 || d >= s.Length)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"tensor has {s.Length} dimensions");
        return s[d];
    }

    /// <summary>Number of elements.</summary>
    public long numel() { long n = NativeMethods.lrb_tensor_numel(Handle); GC.KeepAlive(this); return n; }

    /// <summary>Element type.</summary>
    public ScalarType dtype { get { var t = (ScalarType)NativeMethods.lrb_tensor_dtype(Handle); GC.KeepAlive(this); return t; } }

    /// <summary>Device the tensor lives on.</summary>
    public Device device
    {
        get
        {
            NativeMethods.lrb_tensor_device(Handle, out int type, out int index);
            GC.KeepAlive(this);
            return new Device((DeviceType)type, index);
        }
    }

    /// <summary>Whether autograd records operations on this tensor.</summary>
    public bool requires_grad
    {
        get { bool r = NativeMethods.lrb_tensor_requires_grad(Handle) != 0; GC.KeepAlive(this); return r; }
        set { NativeMethods.Check(NativeMethods.lrb_tensor_set_requires_grad(Handle, value ? 1 : 0)); GC.KeepAlive(this); }
    }

    /// <summary>Sets <see cref="requires_grad"/> in place and returns this tensor.</summary>
    public Tensor requires_grad_(bool value = true) { requires_grad = value; return this; }

    /// <summary>True for tensors created by the user rather than by a differentiable operation.</summary>
    public bool is_leaf { get { bool r = NativeMethods.lrb_tensor_is_leaf(Handle) != 0; GC.KeepAlive(this); return r; } }

    // ---- autograd --------------------------------------------------------------------------------------

    /// <summary>Accumulates gradients of this tensor into the leaves' <see cref="grad"/>.</summary>
    public void backward(Tensor? gradient = null, bool retain_graph = false, bool create_graph = false)
    {
        NativeMethods.Check(NativeMethods.lrb_tensor_backward(Handle, gradient?.Handle ?? IntPtr.Zero,
            retain_graph ? 1 : 0, create_graph ? 1 : 0));
        GC.KeepAlive(this);
        GC.KeepAlive(gradient);
    }

    /// <summary>The accumulated gradient (a new handle to it), or null; setting null clears it.</summary>
    public Tensor? grad
    {
        get
        {
            NativeMethods.Check(NativeMethods.lrb_tensor_grad(Handle, out IntPtr g));
            GC.KeepAlive(this);
            return g == IntPtr.Zero ? null : new Tensor(g);
        }
        set
        {
            NativeMethods.Check(NativeMethods.lrb_tensor_set_grad(Handle, value?.Handle ?? IntPtr.Zero));
            GC.KeepAlive(this);
            GC.KeepAlive(value);
        }
    }

    /// <summary>Replaces this tensor's data by <paramref name="source"/>'s, keeping its identity (used by Module.to).</summary>
    public void set_data(Tensor source)
    {
        NativeMethods.Check(NativeMethods.lrb_tensor_set_data(Handle, source.Handle));
        GC.KeepAlive(this);
        GC.KeepAlive(source);
    }

    /// <summary>A second handle to the same tensor (shares storage and autograd identity).</summary>
    public Tensor alias() { var t = new Tensor(NativeMethods.lrb_tensor_alias(Handle)); GC.KeepAlive(this); return t; }

    // ---- host transfer ---------------------------------------------------------------------------------

    /// <summary>Copies the elements (row-major) into <paramref name="destination"/>, whose length must be numel().</summary>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        CheckHostType<T>();
        CopyBytesTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination));
    }

    /// <summary>Copies the raw element bytes (row-major, little-endian) into <paramref name="destination"/>, whose
    /// length must be numel() × element size.</summary>
    public unsafe void CopyBytesTo(Span<byte> destination)
    {
        fixed (byte* p = destination)
            NativeMethods.Check(NativeMethods.lrb_tensor_to_host(Handle, p, destination.Length));
        GC.KeepAlive(this);
    }

    /// <summary>The elements as a flat row-major array.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        CheckHostType<T>();
        var result = new T[numel()];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public T item<T>() where T : unmanaged
    {
        long n = numel();
        if (n != 1) throw new InvalidOperationException($"item() needs a tensor with one element, this one has {n} (shape [{string.Join(", ", shape)}])");
        Span<T> one = stackalloc T[1];
        CopyTo(one);
        return one[0];
    }

    private void CheckHostType<T>() where T : unmanaged
    {
        ScalarType expected = ScalarTypeExtensions.Of<T>();
        ScalarType actual = dtype;
        if (expected != actual)
            throw new ArgumentException($"tensor has dtype {actual} but {typeof(T).Name} (= {expected}) was requested; convert with to(ScalarType.{expected}) first");
    }

    /// <summary>Shape, dtype, device and the first few values.</summary>
    public override string ToString()
    {
        if (IsDisposed) return "tensor(disposed)";
        var text = new StringBuilder();
        text.Append("tensor([").Append(string.Join(", ", shape)).Append("], ").Append(dtype.ToString().ToLowerInvariant())
            .Append(", ").Append(device);
        if (requires_grad) text.Append(", requires_grad");
        text.Append(')');
        long n = numel();
        if (n > 0)
        {
            const int shown = 8;
            using var head = torch.NoGrad();
            using Tensor flat = reshape(-1);
            using Tensor first = flat.narrow(0, 0, Math.Min(n, shown));
            using Tensor asDouble = first.to(ScalarType.Float64);
            double[] values = asDouble.ToArray<double>();
            text.Append(" [").Append(string.Join(", ", values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture))));
            text.Append(n > shown ? ", ...]" : "]");
        }
        return text.ToString();
    }
}
