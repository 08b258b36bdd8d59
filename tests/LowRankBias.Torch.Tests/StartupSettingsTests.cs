using System.Runtime.InteropServices;

namespace LowRankBias.Torch.Tests;

/// <summary>What the library sets up when it loads libtorch (ProcessSettings): the intra-op thread count, OpenMP's
/// wait policy and the caching allocator of CPU tensors, each left to the environment when it chose.</summary>
[Collection(SerialCollection.Name)] // counts the whole process's page faults and cached bytes
public partial class StartupSettingsTests
{
    private const int Tensors = 8;
    private const long TensorBytes = 4L << 20;

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

    // A step's worth of 4 MiB tensors, freed together, on a test thread (its own malloc arena): glibc returns such
    // memory to the system and the next round faults it in again as zeroed pages, 8 × 1024 per round.
    [Fact]
    public void FreedTensorMemoryIsReusedWithoutPageFaults()
    {
        if (CachingDisabled) return;
        const long pagesPerRound = Tensors * TensorBytes / 4096;
        Round();
        long before = MinorFaults();
        for (int r = 0; r < 9; r++) Round();
        long faults = MinorFaults() - before;
        Assert.True(faults < pagesPerRound, $"9 rounds of {Tensors} × 4 MiB tensors faulted {faults} pages in (one round is {pagesPerRound})");
    }

    [Fact]
    public void EmptyCacheReturnsTheIdleBlocksAndKeepsTheLiveOnes()
    {
        if (CachingDisabled) return;
        Round();
        Assert.True(torch.cpu.memory_cached() >= Tensors * TensorBytes, $"{torch.cpu.memory_cached()} bytes idle after freeing {Tensors} × 4 MiB");
        using Tensor kept = ones([TensorBytes / 4]);
        long reserved = torch.cpu.memory_reserved(), idle = torch.cpu.memory_cached();
        torch.cpu.empty_cache();
        Assert.Equal(0, torch.cpu.memory_cached());
        Assert.Equal(reserved - idle, torch.cpu.memory_reserved());
        Assert.True(torch.cpu.memory_reserved() >= TensorBytes);
        Assert.Equal(TensorBytes / 4, kept.sum().item<float>());
    }

    private static bool CachingDisabled => Environment.GetEnvironmentVariable("LRB_CPU_CACHING_ALLOCATOR") == "0";

    private static void Round()
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < Tensors; i++) ones([TensorBytes / 4]);
    }

    private static long MinorFaults()
    {
        Span<long> usage = stackalloc long[18]; // struct rusage: two timevals, ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt
        Assert.Equal(0, getrusage(0, ref MemoryMarshal.GetReference(usage)));
        return usage[8];
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);

    [LibraryImport("libc")]
    private static partial int getrusage(int who, ref long usage);
}
