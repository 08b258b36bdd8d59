using System.Globalization;
using System.Runtime.InteropServices;

namespace LowRankBias.Benchmarks;

/// <summary>
/// A fast non-BenchmarkDotNet measurement for scripts: per workload, a warm-up (so tiered JIT reaches its final
/// code), then <c>repeats</c> timed loops of <c>iterations</c> calls; prints the median ns/op as "name&lt;TAB&gt;ns".
/// Times the CPU time of this thread (which includes the GC work done on it, the only GC a small loop triggers),
/// so that time spent descheduled on a busy machine does not count; the C++ floor and the PyTorch script do the same.
/// </summary>
public static partial class QuickRunner
{
    /// <summary>Runs every workload and writes one line per workload to standard output.</summary>
    public static void Run(int iterations, int repeats)
    {
        using var work = new PerOpWorkloads();
        foreach (var (name, run) in work.All)
        {
            for (int i = 0; i < Math.Max(iterations, 50_000); i++) run();
            var samples = new double[repeats];
            for (int r = 0; r < repeats; r++)
            {
                long start = ThreadCpuNanoseconds();
                for (int i = 0; i < iterations; i++) run();
                samples[r] = (double)(ThreadCpuNanoseconds() - start) / iterations;
            }
            Array.Sort(samples);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}\t{samples[repeats / 2]:F1}"));
        }
    }

    private const int ClockThreadCpuTime = 3;  // CLOCK_THREAD_CPUTIME_ID

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds, Nanoseconds; }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int clock_gettime(int clock, out Timespec time);

    private static long ThreadCpuNanoseconds()
    {
        if (clock_gettime(ClockThreadCpuTime, out Timespec t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }
}
