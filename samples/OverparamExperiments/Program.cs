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
// Least squares (Fig. 2.1) at the thesis' setting: ReLU networks of width 64, 5 seeds, a 10-rate grid (steps scaled).
var activationOption = cli.Choice("--activation", "linear", "least squares: linear networks (Overparam.Expand) or ReLU networks", "linear", "relu");
var widthOption = cli.Optional<int?>("--width", "least squares: input = output = hidden width (default: the preset's)", "N");
var stepsOption = cli.Optional<int?>("--steps", "least squares: full-batch steps per run (default: the preset's)", "N");
var seedsOption = cli.Optional<int?>("--seeds", "least squares: seeds per (depth, rank); cnn: seeds per configuration (default: the preset's)", "N");
var configsOption = cli.Optional<string>("--configs", "cnn: only these configurations, comma-separated, e.g. \"original,FC ×4,conv ×2\" (runs of the others recorded in --out are kept)", "NAMES");
var ratesOption = cli.Optional<string>("--lrs", "least squares: comma-separated base learning rates η (each run uses η/√d; default: the preset's)", "η,η,…");
var ranksOption = cli.Optional<string>("--ranks", "least squares: comma-separated target ranks, each at most the width (default: the preset's, cut at the width, and the width)", "r,r,…");
var parsed = cli.Parse(args);
string experiment = parsed.GetValue(experimentArgument)!;
Preset preset = LeastSquaresSettings(Preset.Parse(parsed.GetValue(presetOption)!));

Preset LeastSquaresSettings(Preset p)
{
    int? width = parsed.GetValue(widthOption), steps = parsed.GetValue(stepsOption), seeds = parsed.GetValue(seedsOption);
    if (width is < 1) throw new ArgumentException($"--width {width}: must be at least 1");
    if (steps is < 1) throw new ArgumentException($"--steps {steps}: must be at least 1");
    if (seeds is < 1) throw new ArgumentException($"--seeds {seeds}: must be at least 1");
    double[]? rates = parsed.GetValue(ratesOption) is { } list ? list.Split(',', StringSplitOptions.TrimEntries).Select(r =>
        double.TryParse(r, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)
            ? v : throw new ArgumentException($"--lrs {list}: '{r}' is not a positive number")).ToArray() : null;
    int dimension = width ?? p.Dimension;
    // Targets of rank above the width cannot exist: the preset's ranks are cut at it (and the width itself added).
    int[] ranks = parsed.GetValue(ranksOption) is { } rankList ? rankList.Split(',', StringSplitOptions.TrimEntries).Select(r =>
        int.TryParse(r, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v) && v >= 1 && v <= dimension
            ? v : throw new ArgumentException($"--ranks {rankList}: '{r}' is not a rank from 1 to the width {dimension}")).Distinct().ToArray()
        : p.Ranks.Where(r => r < dimension).Append(dimension).Distinct().ToArray();
    return p with
    {
        Dimension = dimension, Ranks = ranks, Steps = steps ?? p.Steps, Seeds = seeds ?? p.Seeds, LearningRates = rates ?? p.LearningRates,
        LeastSquaresRelu = parsed.GetValue(activationOption) == "relu",
        CnnSeeds = seeds ?? p.CnnSeeds,
        CnnConfigs = parsed.GetValue(configsOption)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
    };
}
string outDir = cli.Output(parsed, preset.Name);
Console.WriteLine($"experiment {experiment}, preset {preset.Name}, output {Path.GetFullPath(outDir)}");

var clock = Stopwatch.StartNew();
if (experiment is "least-squares" or "all") LeastSquares.Run(preset, outDir);
if (experiment is "random-rank" or "all") RandomRank.Run(preset, outDir);
if (experiment is "cnn" or "all") CnnComparison.Run(preset, outDir);
if (experiment is "gram" or "all") GramDynamics.Run(preset, outDir);
Console.WriteLine($"done in {clock.Elapsed.TotalMinutes:F1} min");
