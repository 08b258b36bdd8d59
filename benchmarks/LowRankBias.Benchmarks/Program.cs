using BenchmarkDotNet.Running;
using LowRankBias.Benchmarks;

// `--quick [iterations] [repeats]`: the Stopwatch mode used by benchmarks/compare/per_op.sh.
// Anything else goes to BenchmarkDotNet, e.g. `-- --filter '*'`.
if (args.Length > 0 && args[0] == "--quick")
{
    int iterations = args.Length > 1 ? int.Parse(args[1]) : 20_000;
    int repeats = args.Length > 2 ? int.Parse(args[2]) : 15;
    QuickRunner.Run(iterations, repeats);
}
else
{
    BenchmarkSwitcher.FromAssembly(typeof(PerOpBenchmarks).Assembly).Run(args);
}
