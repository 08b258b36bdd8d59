// LTE paper appendix A.2 / figure 8: a 32×32 linear model trained through one rank-4 LoRA head on least squares
// with a full-rank target. Without merging the loss plateaus at the best rank-4 fit; merging every T steps (B reset,
// A redrawn as in the appendix, optimizer state cleared) recovers the full-rank solution, faster for smaller T.
// Each seed draws its own target, data and A; every T of a seed starts from the same A, so the periods are compared on
// equal terms. Writes the curves (mean ± std over the seeds in the plot) and each run's steps to 1e-3 of the start.
using LowRankBias.Lte;
using LowRankBias.Statistics;
using F = LowRankBias.Torch.torch.nn.functional;

var cli = new ProgramCommand("least-squares-merge", "LTE paper appendix A.2 / figure 8: a 32x32 linear model trained through one rank-4 LoRA head on least squares with a full-rank target, merged every T steps or never.");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (30 steps, 1 seed, for CI), quick (1,500 steps, 5 seeds, the recorded run), paper (5,000 steps, 5 seeds)", "tiny", "quick", "paper");
var seedsOption = cli.Optional<int?>("--seeds", "seeds 0 … N−1, each with its own target, data and A (default: the preset's)", "N");
var parsed = cli.Parse(args);
string presetName = parsed.GetValue(presetOption)!;
(int steps, int defaultSeeds) = presetName switch
{
    "tiny" => (30, 1),
    "quick" => (1500, 5),
    "paper" => (5000, 5),
    _ => throw new ArgumentException($"unknown preset '{presetName}': use tiny, quick or paper"),
};
int? seedsGiven = parsed.GetValue(seedsOption);
if (seedsGiven is < 1) throw new ArgumentException($"--seeds {seedsGiven}: must be at least 1");
int seeds = seedsGiven ?? defaultSeeds;
string output = cli.Output(parsed, presetName);
int[] periods = [0, 200, 50, 10];
const double Threshold = 1e-3;
// Curve points kept (every 5th step, and the last) in the CSV and the plot alike; the steps to 1e-3 are counted at every step.
int[] kept = [.. Enumerable.Range(0, steps + 1).Where(i => i % 5 == 0 || i == steps)];

string Name(int period) => period == 0 ? "no merge" : $"merge every {period}";
var curves = new CsvTable(["step", "seed", .. periods.Select(p => Name(p).Replace(' ', '_'))]);
var reached = new CsvTable("seed", "merge_every", "steps_to_1e-3", "final_loss_ratio");
var ratios = periods.ToDictionary(p => p, _ => new List<double[]>());
for (int seed = 0; seed < seeds; seed++)
{
    using var task = new LowRankRegression(32, 32, rank: 32, seed: 7 + (ulong)seed);
    using TensorDataset data = task.Sample(512, seed: 1 + (ulong)seed);
    double[][] runs = [.. periods.Select(period => Run(data.tensors[0], data.tensors[1], period, seed))];
    foreach (int i in kept) curves.Add([i, seed, .. runs.Select(r => (object)r[i])]);
    for (int k = 0; k < periods.Length; k++)
    {
        int first = FirstBelow(runs[k]);
        reached.Add(seed, periods[k], first < 0 ? null : first, runs[k][^1]);
        ratios[periods[k]].Add(runs[k]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seed {seed} ({seed + 1} of {seeds}), T = {(periods[k] == 0 ? "never" : periods[k].ToString(CultureInfo.InvariantCulture)),5}: loss/initial after {steps} steps {runs[k][^1]:0.00E+0}, below {Threshold:0e-0} from step {(first < 0 ? "never" : first.ToString(CultureInfo.InvariantCulture))}"));
    }
}

foreach (int period in periods)
{
    double[] reachedAt = [.. ratios[period].Select(FirstBelow).Where(f => f >= 0).Select(f => (double)f)];
    Console.WriteLine($"{Name(period)}: " + (reachedAt.Length == 0 ? $"never below {Threshold:0e-0}"
        : $"below {Threshold:0e-0} from step {SeedSpread.MeanStd(reachedAt, "F0")} ({reachedAt.Length} of {seeds} seeds)"));
}
curves.Save(Path.Combine(output, "lte-least-squares.csv"));
reached.Save(Path.Combine(output, "lte-least-squares-steps.csv"));
new LineChart { Title = "Least squares 32×32, full-rank target, LoRA rank 4", XLabel = "step", YLabel = "loss / initial loss", LogY = true }
    .Save(Path.Combine(output, "lte-least-squares.svg"), [.. periods.Select(p =>
        ChartSeries.MeanOverRuns(Name(p), [.. ratios[p].Select(r => (IReadOnlyList<(double, double)>)[.. kept.Select(i => ((double)i, r[i]))])]))]);
Console.WriteLine($"wrote {output}/lte-least-squares.csv, lte-least-squares-steps.csv, .png and .svg");

// The first step whose loss is below the threshold (of the initial loss), or −1.
int FirstBelow(double[] ratio) => Array.FindIndex(ratio, r => r < Threshold);

// One LTE head (N = 1) of rank 4 on a zero-initialised 32×32 weight; full-batch AdamW; loss / initial loss after every step.
double[] Run(Tensor x, Tensor y, int period, int seed)
{
    using var scope = NewDisposeScope();
    manual_seed((ulong)seed);
    var linear = new Linear(32, 32, bias: false);
    using (torch.no_grad()) linear.weight.zero_();
    var model = new Sequential(linear);
    var options = new LteOptions { Heads = 1, Rank = 4, Alpha = 4, MergeEvery = period, ReinitializeA = period > 0, ResetOptimizer = period > 0 };
    using var lte = new Lte(model, options);
    using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.01, weight_decay = 0 }));
    var trainer = new LteTrainer(lte, adamW, (o, t) => F.mse_loss(o, t));
    var losses = new double[steps + 1];
    for (int i = 0; i < steps; i++) losses[i] = trainer.Step(x, y);
    lte.eval();
    using (Tensor last = F.mse_loss(lte.call(x), y)) losses[steps] = last.item<float>();
    return [.. losses.Select(l => l / losses[0])];
}
