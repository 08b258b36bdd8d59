using LowRankBias.Torch.Native;

namespace LowRankBias.Torch;

/// <summary>
/// Tells the garbage collector about the native memory of tensors nobody disposed. The GC sees only a small
/// managed object per tensor, so a loop that neither disposes nor uses a dispose scope would otherwise grow without a
/// collection ever running (and, allocating from several threads, outrun the finalizer). Every handle is charged its
/// storage's bytes — divided among the tensors sharing that storage when it is wrapped, nothing for a second handle
/// to the same tensor (so views and aliases are not counted twice; an approximation, since the shares are not
/// re-divided when a sharer goes) — plus a fixed overhead for the native objects. A handle can keep far more alive
/// than its storage (an undisposed loss keeps its autograd graph's buffers, as in PyTorch), so the pressure is the
/// larger of the charged total and the bytes CPU tensors actually hold (<see cref="torch.cpu.memory_allocated"/>).
/// When the pressure passes the budget, the allocating thread runs a full collection and waits for the finalizers,
/// and the budget becomes twice what is still alive (at least <see cref="MinimumBudget"/>), so a loop that does
/// dispose pays a collection only when its live set doubles.
/// </summary>
internal static class NativeMemoryBudget
{
    /// <summary>Native bytes of one handle besides its storage (the at::Tensor, TensorImpl and StorageImpl).</summary>
    internal const long HandleOverhead = 512;

    /// <summary>The smallest budget: 256 MiB of undisposed tensors at most before a collection.</summary>
    internal const long MinimumBudget = 256L << 20;

    private static readonly Lock s_collecting = new();
    [ThreadStatic] private static bool t_finalizing;
    private static long s_charged, s_budget = MinimumBudget;

    /// <summary>Bytes charged to live handles.</summary>
    internal static long Charged => Interlocked.Read(ref s_charged);

    /// <summary>Collections this budget has run.</summary>
    internal static long Collections { get; private set; }

    /// <summary>Charges a new handle of <paramref name="native"/>; returns the bytes to give back when it is freed.</summary>
    internal static long Charge(IntPtr native)
    {
        long bytes = HandleOverhead + NativeMethods.lrb_tensor_owned_nbytes(native);
        long charged = Interlocked.Add(ref s_charged, bytes);
        if (Math.Max(charged, NativeMethods.lrb_cpu_memory_allocated()) > Volatile.Read(ref s_budget) && !t_finalizing) Collect();
        return bytes;
    }

    private static long Pressure => Math.Max(Charged, NativeMethods.lrb_cpu_memory_allocated());

    internal static void Refund(long bytes) => Interlocked.Add(ref s_charged, -bytes);

    /// <summary>Marks the calling thread as the finalizer's, which must never wait for finalizers.</summary>
    internal static void OnFinalizerThread() => t_finalizing = true;

    // One thread collects; threads arriving meanwhile wait for it and then re-check, so none of them outruns the
    // finalizer. Skipped on the finalizer thread, where waiting for finalizers would deadlock.
    private static void Collect()
    {
        lock (s_collecting)
        {
            if (Pressure <= Volatile.Read(ref s_budget)) return;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Volatile.Write(ref s_budget, Math.Max(MinimumBudget, 2 * Pressure));
            Collections++;
        }
    }
}
