using System.Runtime.InteropServices;

namespace LowRankBias.Torch.Native;

/// <summary>
/// The process-wide settings the library chooses when it loads libtorch, each left alone where the environment
/// already chose (docs/benchmarks.md has the measurements):
/// <list type="bullet">
/// <item>OpenMP's idle threads sleep at once (<c>OMP_WAIT_POLICY=PASSIVE</c>): libtorch's OpenMP threads and
/// OpenBLAS's own threads share the cores, and OpenMP's default spin after every parallel region takes the core an
/// OpenBLAS thread needs. Left alone when <c>OMP_WAIT_POLICY</c> or <c>GOMP_SPINCOUNT</c> is set.</item>
/// <item>CPU tensors of 128 KiB and more come from a caching allocator (see <see cref="torch.cpu"/>) that reuses freed
/// blocks instead of faulting fresh zeroed pages in at every step, the effect PyTorch's CPU tuning guide gets by
/// preloading jemalloc or tcmalloc. <c>LRB_CPU_CACHING_ALLOCATOR=0</c> keeps libtorch's own allocator.</item>
/// <item>libtorch's intra-op threads: <c>OMP_NUM_THREADS</c> when set (as launchers such as torchrun set it for
/// several processes per machine), else every core (Debian's libtorch starts with one).</item>
/// </list>
/// </summary>
internal static partial class ProcessSettings
{
    /// <summary>Settings read once when libgomp is loaded with libtorch.</summary>
    public static void BeforeLoad()
    {
        if (Unset("OMP_WAIT_POLICY") && Unset("GOMP_SPINCOUNT"))
            setenv("OMP_WAIT_POLICY", "PASSIVE", 0); // .NET's environment block is a copy native code never sees
    }

    /// <summary>Settings made through the loaded bridge.</summary>
    public static unsafe void AfterLoad(IntPtr bridge)
    {
        var setThreads = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(bridge, "lrb_set_num_threads");
        setThreads(IntraOpThreads);
        if (Environment.GetEnvironmentVariable("LRB_CPU_CACHING_ALLOCATOR") != "0")
            ((delegate* unmanaged<void>)NativeLibrary.GetExport(bridge, "lrb_cpu_use_caching_allocator"))();
    }

    private static int IntraOpThreads =>
        int.TryParse(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), out int n) && n > 0 ? n : Environment.ProcessorCount;

    private static bool Unset(string name) => Environment.GetEnvironmentVariable(name) is null;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
