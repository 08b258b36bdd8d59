using System.Runtime.InteropServices;
using LowRankBias.Torch.Native;
using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch;

/// <summary>The <c>torch.*</c> namespace: runtime controls, tensor creation and free functions. Use with
/// <c>using static LowRankBias.Torch.torch;</c> to write code that reads like PyTorch.</summary>
public static partial class torch
{
    /// <summary>The libtorch version the native bridge was built against.</summary>
    public static string version => Marshal.PtrToStringUTF8(lrb_torch_version()) ?? "unknown";

    /// <summary>Seeds every libtorch generator (CPU and CUDA).</summary>
    public static void manual_seed(ulong seed) => Check(lrb_manual_seed(seed));

    /// <summary>Number of intra-op threads (set to the core count when the library loads).</summary>
    public static int get_num_threads() => lrb_get_num_threads();

    /// <summary>Sets the number of intra-op threads.</summary>
    public static void set_num_threads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        lrb_set_num_threads(threads);
    }

    /// <summary>Starts a dispose scope on this thread (see <see cref="DisposeScope"/>).</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary>Whether autograd is recording on this thread.</summary>
    public static bool is_grad_enabled() => lrb_is_grad_enabled() != 0;

    /// <summary>Turns autograd recording on this thread on or off until the returned guard is disposed.</summary>
    public static GradModeGuard set_grad_enabled(bool enabled) => new(enabled);

    /// <summary>Disables autograd on this thread until the returned guard is disposed (<c>with torch.no_grad()</c>).</summary>
    public static GradModeGuard no_grad() => new(false);

    /// <summary>Same as <see cref="no_grad"/>; .NET-style name.</summary>
    public static GradModeGuard NoGrad() => new(false);

    /// <summary>Restores the previous grad mode when disposed.</summary>
    public readonly struct GradModeGuard : IDisposable
    {
        private readonly bool _previous;
        internal GradModeGuard(bool enabled) => _previous = lrb_set_grad_enabled(enabled ? 1 : 0) != 0;
        /// <summary>Restores the grad mode that was in force when the guard was created.</summary>
        public void Dispose() => lrb_set_grad_enabled(_previous ? 1 : 0);
    }

    /// <summary>The CPU generator's state, for checkpoints that resume exactly.</summary>
    public static Tensor get_rng_state()
    {
        Check(lrb_rng_get_state(out IntPtr state));
        return new Tensor(state);
    }

    /// <summary>Restores a state returned by <see cref="get_rng_state"/>.</summary>
    public static void set_rng_state(Tensor state)
    {
        CheckRngState(state);
        Check(lrb_rng_set_state(state.Handle));
        GC.KeepAlive(state);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> unless <paramref name="state"/> has the dtype, device and
    /// size of <see cref="get_rng_state"/>'s (the generator accepts any bytes of that size).</summary>
    internal static void CheckRngState(Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        long size;
        using (Tensor current = get_rng_state()) size = current.numel();
        if (state.dtype != ScalarType.Byte || state.device.Type != DeviceType.CPU || state.dim() != 1 || state.numel() != size)
            throw new ArgumentException($"an RNG state is a CPU uint8 tensor of {size} bytes, got {state.dtype} [{string.Join(", ", state.shape)}] on {state.device}", nameof(state));
    }

    /// <summary>
    /// The caching allocator of CPU tensors of 128 KiB and more (on unless <c>LRB_CPU_CACHING_ALLOCATOR=0</c>): freed
    /// blocks are kept for the next tensor of their rounded size, so a training loop stops faulting fresh pages in at
    /// every step. It holds up to the peak working set, at most 4 GiB of it idle.
    /// </summary>
    public static class cpu
    {
        /// <summary>Bytes held by CPU tensors now (every size, allocated since the library loaded; 0 with
        /// <c>LRB_CPU_CACHING_ALLOCATOR=0</c>). Undisposed tensors are collected when this grows (see README).</summary>
        public static long memory_allocated() => lrb_cpu_memory_allocated();

        /// <summary>Bytes the caching allocator holds now: blocks in use by tensors and idle ones kept for reuse.</summary>
        public static long memory_reserved() => Stats().reserved;

        /// <summary>Bytes of idle blocks kept for reuse (returned to the system by <see cref="empty_cache"/>).</summary>
        public static long memory_cached() => Stats().idle;

        /// <summary>Returns every idle block to the system.</summary>
        public static void empty_cache() => lrb_cpu_empty_cache();

        private static unsafe (long reserved, long idle) Stats()
        {
            long reserved, idle;
            lrb_cpu_memory_stats(&reserved, &idle);
            return (reserved, idle);
        }
    }

    /// <summary><c>torch.cuda.*</c></summary>
    public static class cuda
    {
        /// <summary>True when libtorch has CUDA and sees at least one device.</summary>
        public static bool is_available() => lrb_cuda_is_available() != 0;

        /// <summary>Number of visible CUDA devices.</summary>
        public static int device_count() => lrb_cuda_device_count();

        /// <summary>Waits until every queued kernel on the device has finished.</summary>
        public static void synchronize(int device = -1) => Check(lrb_cuda_synchronize(device));

        /// <summary>Bytes held by tensors on the device now.</summary>
        public static long memory_allocated(int device = 0) => Stats(device)[0];

        /// <summary>Peak bytes held by tensors since start or the last reset.</summary>
        public static long max_memory_allocated(int device = 0) => Stats(device)[1];

        /// <summary>Bytes reserved by the caching allocator now.</summary>
        public static long memory_reserved(int device = 0) => Stats(device)[2];

        /// <summary>Peak bytes reserved by the caching allocator.</summary>
        public static long max_memory_reserved(int device = 0) => Stats(device)[3];

        /// <summary>Resets the peaks reported by the max_* functions.</summary>
        public static void reset_peak_memory_stats(int device = 0) => Check(lrb_cuda_reset_peak_memory_stats(device));

        private static unsafe long[] Stats(int device)
        {
            var stats = new long[4];
            fixed (long* p = stats) Check(lrb_cuda_memory_stats(device, p));
            return stats;
        }
    }
}
