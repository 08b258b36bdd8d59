using LowRankBias.Torch.Native;

namespace LowRankBias.Torch;

/// <summary>
/// Owns one native at::Tensor for a <see cref="Tensor"/> and frees it from its finalizer if the tensor was never
/// disposed; counts how many are alive process-wide. Allocating an object with a finalizer registers it with the
/// GC, which costs more than a small op itself, so released handles go to a small per-thread pool and are reused:
/// they stay registered for finalization and, while pooled, hold nothing to free. Each handle is charged to the
/// <see cref="NativeMemoryBudget"/>, so undisposed tensors make the GC run.
/// </summary>
internal sealed class TensorHandle
{
    private const int PoolSize = 64;
    [ThreadStatic] private static TensorHandle[]? t_pool;
    [ThreadStatic] private static int t_pooled;
    private static long s_live;

    private IntPtr _native;
    private long _charged;

    private TensorHandle() { }

    ~TensorHandle()
    {
        NativeMemoryBudget.OnFinalizerThread();
        if (_native != IntPtr.Zero) Free(_native, _charged);
    }

    internal static long Live => Interlocked.Read(ref s_live);

    /// <summary>The native at::Tensor pointer.</summary>
    internal IntPtr Native => _native;

    /// <summary>A handle owning <paramref name="native"/>, recycled from this thread's pool when possible.</summary>
    internal static TensorHandle Rent(IntPtr native)
    {
        TensorHandle[]? pool = t_pool;
        TensorHandle handle;
        if (pool is not null && t_pooled > 0)
        {
            handle = pool[--t_pooled];
            pool[t_pooled] = null!;
        }
        else
        {
            handle = new TensorHandle();
        }
        handle._native = native;
        handle._charged = NativeMemoryBudget.Charge(native);
        Interlocked.Increment(ref s_live);
        return handle;
    }

    /// <summary>Frees the native tensor and recycles this object. The caller must be its only owner and drop it.</summary>
    internal void Release()
    {
        Free(_native, _charged);
        _native = IntPtr.Zero;
        TensorHandle[] pool = t_pool ??= new TensorHandle[PoolSize];
        if (t_pooled < PoolSize) pool[t_pooled++] = this;
        else GC.SuppressFinalize(this);
    }

    private static void Free(IntPtr native, long charged)
    {
        NativeMethods.lrb_tensor_free(native);
        NativeMemoryBudget.Refund(charged);
        Interlocked.Decrement(ref s_live);
    }
}
