using System.Runtime.InteropServices;

namespace LowRankBias.Torch.Tests;

/// <summary>What the library sets up when it loads libtorch (ProcessSettings): the intra-op thread count and OpenMP's
/// wait policy, each left to the environment when it chose (the CPU caching allocator: CpuCachingAllocatorTests).</summary>
public partial class StartupSettingsTests
{
    public StartupSettingsTests()
    {
        using (NewDisposeScope()) _ = zeros([1]); // loads libtorch, if no test did yet
    }

    [Fact]
    public void IntraOpThreadsAreTheCoresOrOmpNumThreads()
    {
        int expected = int.TryParse(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), out int n) && n > 0 ? n : Environment.ProcessorCount;
        Assert.Equal(expected, get_num_threads());
    }

    [Fact]
    public void OpenMpThreadsSleepWhenIdleUnlessTheEnvironmentChose()
    {
        string? policy = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        string? spin = Environment.GetEnvironmentVariable("GOMP_SPINCOUNT");
        Assert.Equal(policy ?? (spin is null ? "PASSIVE" : null), Marshal.PtrToStringUTF8(getenv("OMP_WAIT_POLICY")));
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);
}
