using System.Runtime.InteropServices;

namespace LowRankBias.Torch.Tests;

/// <summary>The caching allocator of CPU tensors of 128 KiB and more (torch.cpu), on unless LRB_CPU_CACHING_ALLOCATOR=0.</summary>
[Collection(SerialCollection.Name)] // counts the whole process's page faults and cached bytes
public partial class CpuCachingAllocatorTests
{
    private const int Tensors = 8;
    private const long TensorBytes = 4L << 20;

    private static bool CachingDisabled => Environment.GetEnvironmentVariable("LRB_CPU_CACHING_ALLOCATOR") == "0";

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

    // Blocks handed to two live tensors at once would mix their contents: each thread fills its tensors with its own
    // value, of sizes that share rounded buckets, and reads them back while the others allocate and free.
    [Fact]
    public void ThreadsAllocatingAndFreeingAtOnceNeverShareABlock()
    {
        long[] sizes = [(1L << 20) / 4, (5L << 20) / 4 + 3, (6L << 20) / 4, (3L << 20) / 4 + 1];
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            for (int round = 0; round < 25; round++)
            {
                using var scope = NewDisposeScope();
                double value = worker * 100 + round;
                Tensor[] held = sizes.Select(n => full([n], value)).ToArray();
                foreach (Tensor t in held)
                {
                    double min = t.min().item<float>(), max = t.max().item<float>();
                    if (min != value || max != value) failures.Add($"worker {worker} round {round}: [{min}, {max}] instead of {value}");
                }
            }
        });
        Assert.Empty(failures);
    }

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

    [LibraryImport("libc")]
    private static partial int getrusage(int who, ref long usage);
}
