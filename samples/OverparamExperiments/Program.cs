using System.Diagnostics;
using OverparamExperiments;

// Over-parameterisation experiments of the Huh thesis, ch. 2:
//   least-squares  Fig. 2.1: training loss of depth-d linear networks on least squares with targets of rank r.
//   random-rank    Fig. 2.2 / Obs. 2.4.1: distribution of the Gram effective rank of random linear and ReLU networks.
//   cnn            Tables 2.1 and 2.3 on Fashion-MNIST: the appendix-7.5 CNN over-parameterised (FC, conv, both) vs
//                  explicit regularisers, several seeds.
var cli = new ProgramCommand("overparam", "Over-parameterisation experiments of the Huh thesis, chapter 2 (least squares, random-network rank, CNN on Fashion-MNIST, Gram spectrum).");
var experimentArgument = cli.Positional("experiment", "all", "which experiment", "least-squares", "random-rank", "cnn", "gram", "all");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (seconds, for CI), quick (minutes to an hour on 2 cores), converged (the CNN's FC expansions with SGD and a learning-rate grid for 50 epochs, about 1.5 hours on 2 cores; rerun into the same --out to resume), full (closer to the thesis)", "tiny", "quick", "converged", "full", "paper");
var parsed = cli.Parse(args);
string experiment = parsed.GetValue(experimentArgument)!;
Preset preset = Preset.Parse(parsed.GetValue(presetOption)!);
string outDir = cli.Output(parsed, preset.Name);
Console.WriteLine($"experiment {experiment}, preset {preset.Name}, output {Path.GetFullPath(outDir)}");

var clock = Stopwatch.StartNew();
if (experiment is "least-squares" or "all") LeastSquares.Run(preset, outDir);
if (experiment is "random-rank" or "all") RandomRank.Run(preset, outDir);
if (experiment is "cnn" or "all") CnnComparison.Run(preset, outDir);
if (experiment is "gram" or "all") GramDynamics.Run(preset, outDir);
Console.WriteLine($"done in {clock.Elapsed.TotalMinutes:F1} min");
