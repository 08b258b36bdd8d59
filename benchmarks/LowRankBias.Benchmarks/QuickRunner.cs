using System.Diagnostics;
using System.Globalization;

namespace LowRankBias.Benchmarks;

/// <summary>
/// A fast non-BenchmarkDotNet measurement for scripts: per workload, a warm-up (so tiered JIT reaches its final
/// code), then <c>repeats</c> timed loops of <c>iterations</c> calls; prints the median ns/op as "name&lt;TAB&gt;ns".
/// Same method as the C++ floor and the PyTorch script, so the three are comparable.
/// </summary>
public static class QuickRunner
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
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < iterations; i++) run();
                samples[r] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations;
            }
            Array.Sort(samples);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}\t{samples[repeats / 2]:F1}"));
        }
    }
}
