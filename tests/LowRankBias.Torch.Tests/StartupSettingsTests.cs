using System.Runtime.InteropServices;

namespace LowRankBias.Torch.Tests;

/// <summary>What the native loader sets up before libtorch runs: the intra-op thread count and OpenMP's wait policy,
/// each left to the environment when it chose one.</summary>
public partial class StartupSettingsTests
{
    [Fact]
    public void IntraOpThreadsAreTheCoresOrOmpNumThreads()
    {
        int expected = int.TryParse(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), out int n) && n > 0 ? n : Environment.ProcessorCount;
        using (NewDisposeScope()) _ = zeros([1]);
        Assert.Equal(expected, get_num_threads());
    }

    [Fact]
    public void OpenMpThreadsSleepWhenIdleUnlessTheEnvironmentChose()
    {
        using (NewDisposeScope()) _ = zeros([1]);
        string? policy = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        string? spin = Environment.GetEnvironmentVariable("GOMP_SPINCOUNT");
        string? seenByLibtorch = Marshal.PtrToStringUTF8(getenv("OMP_WAIT_POLICY"));
        Assert.Equal(policy ?? (spin is null ? "PASSIVE" : null), seenByLibtorch);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);
}
