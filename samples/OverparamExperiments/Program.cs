using System.Diagnostics;
using OverparamExperiments;

// Over-parameterisation experiments of the Huh thesis, ch. 2:
//   least-squares  Fig. 2.1: training loss of depth-d linear networks on least squares with targets of rank r.
//   random-rank    Fig. 2.2 / Obs. 2.4.1: distribution of the Gram effective rank of random linear and ReLU networks.
//   cnn            Tables 2.1 and 2.3 on Fashion-MNIST: the appendix-7.5 CNN over-parameterised (FC, conv, both) vs
//                  explicit regularisers, several seeds.
// Usage: dotnet run -c Release --project samples/OverparamExperiments -- [least-squares|random-rank|cnn|gram|all] [--preset tiny|quick|full] [--out DIR]
string experiment = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
Preset preset = Preset.Parse(Option("--preset") ?? "quick");
string outDir = Option("--out") ?? Path.Combine("docs", "results", "overparam");
Directory.CreateDirectory(outDir);
Console.WriteLine($"experiment {experiment}, preset {preset.Name}, output {Path.GetFullPath(outDir)}");

var clock = Stopwatch.StartNew();
if (experiment is "least-squares" or "all") LeastSquares.Run(preset, outDir);
if (experiment is "random-rank" or "all") RandomRank.Run(preset, outDir);
if (experiment is "cnn" or "all") CnnComparison.Run(preset, outDir);
if (experiment is "gram" or "all") GramDynamics.Run(preset, outDir);
if (experiment is not ("least-squares" or "random-rank" or "cnn" or "gram" or "all"))
    throw new ArgumentException($"unknown experiment '{experiment}': use least-squares, random-rank, cnn, gram or all");
Console.WriteLine($"done in {clock.Elapsed.TotalMinutes:F1} min");

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
