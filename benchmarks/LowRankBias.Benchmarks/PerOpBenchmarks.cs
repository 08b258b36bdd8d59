using BenchmarkDotNet.Attributes;

namespace LowRankBias.Benchmarks;

/// <summary>BenchmarkDotNet view of <see cref="PerOpWorkloads"/>: ns/op and managed allocation per call.</summary>
[MemoryDiagnoser]
public class PerOpBenchmarks
{
    private PerOpWorkloads _work = null!;

    [GlobalSetup] public void Setup() => _work = new PerOpWorkloads();
    [GlobalCleanup] public void Cleanup() => _work.Dispose();

    [Benchmark(Description = "add")] public void AddTyped() => _work.AddTyped();
    [Benchmark(Description = "mm")] public void MmTyped() => _work.MmTyped();
    [Benchmark(Description = "add_boxed")] public void AddBoxed() => _work.AddBoxed();
    [Benchmark(Description = "mm_boxed")] public void MmBoxed() => _work.MmBoxed();
    [Benchmark(Description = "relu_boxed")] public void ReluBoxed() => _work.ReluBoxed();
}
