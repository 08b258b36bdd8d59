using LowRankBias.Torch.Native;
using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch;

public static partial class torch
{
    private static readonly Op s_zeros = new("aten::zeros"), s_ones = new("aten::ones"), s_empty = new("aten::empty", "memory_format");
    private static readonly Op s_full = new("aten::full"), s_eye = new("aten::eye"), s_eyeM = new("aten::eye", "m");
    private static readonly Op s_arange = new("aten::arange", "start_step"), s_linspace = new("aten::linspace");
    private static readonly Op s_rand = new("aten::rand"), s_randn = new("aten::randn");
    private static readonly Op s_randint = new("aten::randint", "low"), s_randperm = new("aten::randperm");
    private static readonly Op s_zerosLike = new("aten::zeros_like"), s_onesLike = new("aten::ones_like");
    private static readonly Op s_randLike = new("aten::rand_like"), s_randnLike = new("aten::randn_like");
    private static readonly Op s_fullLike = new("aten::full_like"), s_emptyLike = new("aten::empty_like");

    /// <summary>Copies host values into a new tensor of the given shape (a 1-D tensor when shape is omitted).</summary>
    public static Tensor from_array<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> shape, Device? device = null, bool requires_grad = false)
        where T : unmanaged =>
        from_bytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data), ScalarTypeExtensions.Of<T>(), shape, device, requires_grad);

    /// <summary>A new tensor of the given dtype and shape whose row-major little-endian element bytes are
    /// <paramref name="bytes"/> (the layout safetensors and NumPy use).</summary>
    public static unsafe Tensor from_bytes(ReadOnlySpan<byte> bytes, ScalarType dtype, ReadOnlySpan<long> shape, Device? device = null, bool requires_grad = false)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension {d} in shape [{string.Join(", ", shape.ToArray())}]", nameof(shape));
            count *= d;
        }
        if (count * dtype.ElementSize() != bytes.Length)
            throw new ArgumentException($"shape [{string.Join(", ", shape.ToArray())}] holds {count} elements but {bytes.Length / dtype.ElementSize()} values were given ({bytes.Length} bytes of {dtype})", nameof(shape));
        Device target = device ?? Device.CPU;
        target.EnsureAvailable();
        IntPtr result;
        fixed (byte* p = bytes)
        fixed (long* s = shape)
            Check(lrb_tensor_from_data(p, bytes.Length, s, shape.Length, (int)dtype, (int)target.Type, target.Index, requires_grad ? 1 : 0, out result));
        return new Tensor(result);
    }

    /// <summary>A tensor holding <paramref name="data"/>, reshaped to <paramref name="shape"/> when given.</summary>
    public static Tensor tensor<T>(T[] data, long[]? shape = null, Device? device = null, bool requires_grad = false) where T : unmanaged =>
        from_array<T>(data, shape ?? [data.LongLength], device, requires_grad);

    /// <summary>A 2-D tensor holding a rectangular array.</summary>
    public static Tensor tensor<T>(T[,] data, Device? device = null, bool requires_grad = false) where T : unmanaged
    {
        var flat = new T[data.Length];
        int cols = data.GetLength(1);
        for (int i = 0; i < data.GetLength(0); i++)
            for (int j = 0; j < cols; j++) flat[i * cols + j] = data[i, j];
        return from_array<T>(flat, [data.GetLength(0), cols], device, requires_grad);
    }

    /// <summary>A 0-dimensional tensor.</summary>
    public static Tensor scalar_tensor(double value, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using Tensor d = from_array<double>([value], [], device);
        return d.to(dtype);
    }

    private static Tensor Requiring(Tensor t, bool requiresGrad) => requiresGrad ? t.requires_grad_() : t;

    /// <summary>Zeros of the given shape (float32 unless dtype says otherwise).</summary>
    public static Tensor zeros(long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Requiring(s_zeros.Call(size, dtype, Arg.None, device), requires_grad);

    /// <summary>Ones of the given shape.</summary>
    public static Tensor ones(long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Requiring(s_ones.Call(size, dtype, Arg.None, device), requires_grad);

    /// <summary>An uninitialised tensor of the given shape.</summary>
    public static Tensor empty(long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Requiring(s_empty.Call(size, dtype, Arg.None, device), requires_grad);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor full(long[] size, double value, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Requiring(s_full.Call(size, value, dtype ?? ScalarType.Float32, Arg.None, device), requires_grad);

    /// <summary>The n×m identity matrix (m = n by default).</summary>
    public static Tensor eye(long n, long? m = null, ScalarType? dtype = null, Device? device = null) =>
        m is null ? s_eye.Call(n, dtype, Arg.None, device) : s_eyeM.Call(n, m.Value, dtype, Arg.None, device);

    /// <summary>Values from start (inclusive) to end (exclusive) by step; int64 when all three are integers.</summary>
    public static Tensor arange(double start, double end, double step = 1, ScalarType? dtype = null, Device? device = null)
    {
        bool integral = start == Math.Floor(start) && end == Math.Floor(end) && step == Math.Floor(step);
        return integral && dtype is null
            ? s_arange.Call((long)start, (long)end, (long)step, Arg.None, Arg.None, device)
            : s_arange.Call(start, end, step, dtype, Arg.None, device);
    }

    /// <summary>Values 0, 1, …, end−1 (int64).</summary>
    public static Tensor arange(long end, ScalarType? dtype = null, Device? device = null) =>
        s_arange.Call(0L, end, 1L, dtype, Arg.None, device);

    /// <summary><paramref name="steps"/> evenly spaced values from start to end inclusive.</summary>
    public static Tensor linspace(double start, double end, long steps, ScalarType? dtype = null, Device? device = null) =>
        s_linspace.Call(start, end, steps, dtype, Arg.None, device);

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor rand(long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Requiring(s_rand.Call(size, dtype, Arg.None, device), requires_grad);

    /// <summary>Standard normal samples.</summary>
    public static Tensor randn(long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Requiring(s_randn.Call(size, dtype, Arg.None, device), requires_grad);

    /// <summary>Uniform integers in [low, high) (int64).</summary>
    public static Tensor randint(long low, long high, long[] size, ScalarType? dtype = null, Device? device = null) =>
        s_randint.Call(low, high, size, dtype ?? ScalarType.Int64, Arg.None, device);

    /// <summary>A random permutation of 0 … n−1 (int64).</summary>
    public static Tensor randperm(long n, Device? device = null) => s_randperm.Call(n, ScalarType.Int64, Arg.None, device);

    /// <summary>Zeros shaped like <paramref name="other"/>.</summary>
    public static Tensor zeros_like(Tensor other, ScalarType? dtype = null) => s_zerosLike.Call(other, dtype);
    /// <summary>Ones shaped like <paramref name="other"/>.</summary>
    public static Tensor ones_like(Tensor other, ScalarType? dtype = null) => s_onesLike.Call(other, dtype);
    /// <summary>Uninitialised, shaped like <paramref name="other"/>.</summary>
    public static Tensor empty_like(Tensor other, ScalarType? dtype = null) => s_emptyLike.Call(other, dtype);
    /// <summary>Filled with <paramref name="value"/>, shaped like <paramref name="other"/>.</summary>
    public static Tensor full_like(Tensor other, double value, ScalarType? dtype = null) => s_fullLike.Call(other, value, dtype);
    /// <summary>Uniform samples shaped like <paramref name="other"/>.</summary>
    public static Tensor rand_like(Tensor other, ScalarType? dtype = null) => s_randLike.Call(other, dtype);
    /// <summary>Normal samples shaped like <paramref name="other"/>.</summary>
    public static Tensor randn_like(Tensor other, ScalarType? dtype = null) => s_randnLike.Call(other, dtype);
}
