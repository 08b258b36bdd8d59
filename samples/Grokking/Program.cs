// Grokking and the spectral dynamics of weights (Yunis et al., figure 2) in Nanda et al.'s (2023) setting: a one-layer
// transformer (width 128, 4 heads, MLP 512, no LayerNorm, learned token and position embeddings) learns addition
// modulo 113 from 30% of the pairs, full batch, AdamW lr 1e-3, betas (0.9, 0.98), cross-entropy on the answer token
// in float64 (as Nanda et al. compute it). With weight decay 1 it first memorises, then suddenly generalises — and that
// jump coincides with its weights turning low-rank. Without weight decay neither happens within the budget; with 90% of
// the data it generalises at once. A run stops early once its test accuracy has held 99% for 1,000 steps. A SpectralMonitor records every matrix during training; each run is repeated per seed
// (seed = initial weights and data split).
using LowRankBias.Torch.IO;

var cli = new ProgramCommand("grokking", "Grokking and the spectral dynamics of weights (Yunis et al., figure 2) in Nanda et al.'s setting: a one-layer transformer learns addition modulo p; a SpectralMonitor records every matrix.");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (seconds, for CI), quick (Nanda et al.: p = 113, width 128; --modulus, --steps, --lr), paper (40,000 steps)", "tiny", "quick", "paper");
var modulusOption = cli.Add("--modulus", 113, "modulus p (quick preset)");
var stepsOption = cli.Add("--steps", 15000, "full-batch training steps at most (quick preset)");
var lrOption = cli.Add("--lr", 1e-3, "AdamW learning rate (quick preset)");
var seedsOption = cli.Add("--seeds", "0", "comma-separated seeds (initial weights and data split), each a run");
var runOption = cli.Choice("--run", "all", "which run", "all", "data30-wd0", "data30-wd1", "data90-wd0");
var parsed = cli.Parse(args);
string presetName = parsed.GetValue(presetOption)!;
var p = presetName switch
{
    "tiny" => (modulus: 11, steps: 20, every: 10, width: 32L),
    "quick" => (modulus: parsed.GetValue(modulusOption), steps: parsed.GetValue(stepsOption), every: 100, width: 128L),
    "paper" => (modulus: 113, steps: 40_000, every: 100, width: 128L),
    _ => throw new ArgumentException($"unknown preset '{presetName}': use tiny, quick or paper"),
};
double lr = presetName == "quick" ? parsed.GetValue(lrOption) : 1e-3;
int[] seeds = parsed.GetValue(seedsOption)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
(string name, string slug, double fraction, double decay)[] runs =
[
    ("30% data, no weight decay", "data30-wd0", 0.3, 0.0),
    ("30% data, weight decay 1 (grokking)", "data30-wd1", 0.3, 1.0),
    ("90% data, no weight decay", "data90-wd0", 0.9, 0.0),
];
if (parsed.GetValue(runOption) is { } only and not "all") runs = runs.Where(r => r.slug == only).ToArray();
string output = cli.Output(parsed, presetName);
const string Attention = "blocks.0.attn.q", Pair = "embed → blocks.0.attn.q";
Console.WriteLine($"preset {presetName}: addition mod {p.modulus}, one-layer transformer (Nanda et al.: width {p.width}, MLP {4 * p.width}, learned positions), " +
                  $"full-batch AdamW lr {lr:G2}, betas (0.9, 0.98), {p.steps:N0} steps, spectra every {p.every}, seeds {string.Join(",", seeds)}; output {Path.GetFullPath(output)}");

// Rows are appended as they come, each whole (a full disk leaves no half row), so a long run can be followed (and a
// stopped one still says how far it got).
var rows = CsvTable.Appending(Path.Combine(output, "grokking.csv"), "run", "seed", "step", "train_loss", "train_accuracy", "test_accuracy",
    "effective_rank_attention", "mean_normalized_effective_rank", "alignment_embed_attention");
// A run that has held ≥ 99% test accuracy this long has nothing more to show.
const int SteadySteps = 1000;
var accuracies = new List<ChartSeries>();
var ranks = new List<ChartSeries>();
var summary = new SummaryTable("run", "seed", "train accuracy", "test accuracy", "train ≥ 99% at step", "test ≥ 95% at step",
    $"effective rank of {Attention}, start", "end", "mean exp(H)/R, start", "end", "ms/step");
foreach (var run in runs)
foreach (int seed in seeds)
{
    manual_seed((ulong)seed);
    using var task = new ModularAddition(p.modulus, run.fraction, seed: (ulong)seed);
    using var model = new ModularAdditionTransformer(ModularAdditionTransformer.Config.Nanda with { p = p.modulus, d_model = p.width, d_mlp = 4 * p.width });
    using var optimizer = new AdamW(model.parameters(), lr: lr, betas: (0.9, 0.98), weight_decay: run.decay);
    string label = seeds.Length > 1 ? $"{run.name}, seed {seed}" : run.name;
    string runDir = Path.Combine(output, seed == 0 ? run.slug : $"{run.slug}-s{seed}");
    using var monitor = new SpectralMonitor(model, runDir, new SpectralMonitorOptions { Every = p.every, Agreement = false });
    var train = new List<(double, double)>();
    var test = new List<(double, double)>();
    var rank = new List<(double, double)>();
    var meanRank = new List<double>();
    long? memorised = null, generalised = null, steadySince = null;
    double loss = double.NaN, trainingSeconds = 0;
    var clock = System.Diagnostics.Stopwatch.StartNew();
    for (int step = 0; step <= p.steps; step++)
    {
        if (step % p.every == 0 || step == p.steps)
        {
            double trainAccuracy = Accuracy(model, task.Train), testAccuracy = Accuracy(model, task.Test);
            SpectralRecord record = monitor.Record(step);
            double effectiveRank = record.Layers.Single(l => l.Name == Attention)[SpectrumColumns.EffectiveRank];
            double meanNormalized = record.Layers.Average(l => l[SpectrumColumns.NormalizedEffectiveRank]);
            double alignment = record.Alignment.Single(a => a.Name == Pair).Score;
            rows.Add(run.slug, seed, step, loss, trainAccuracy, testAccuracy, effectiveRank, meanNormalized, alignment);
            train.Add((step, trainAccuracy));
            test.Add((step, testAccuracy));
            rank.Add((step, effectiveRank));
            meanRank.Add(meanNormalized);
            if (trainAccuracy >= 0.99) memorised ??= step;
            if (testAccuracy >= 0.95) generalised ??= step;
            steadySince = testAccuracy >= 0.99 ? steadySince ?? step : null;
            if (step % (10 * p.every) == 0 || step == p.steps)
            {
                // Before the first step there is no training loss and no rate to extrapolate.
                string lossText = step == 0 ? "—" : loss.ToString("G4", CultureInfo.InvariantCulture);
                string eta = step == 0 ? "—" : $"{clock.Elapsed.TotalSeconds / step * (p.steps - step):F0} s";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{label}: step {step,6:N0}/{p.steps:N0}  loss {lossText}  train accuracy {trainAccuracy:P1}  test accuracy {testAccuracy:P1}  " +
                    $"effective rank of {Attention} {effectiveRank:F1}  ({clock.Elapsed.TotalSeconds:F0} s, ETA {eta})"));
            }
        }
        if (step == p.steps || step - steadySince >= SteadySteps) break;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        loss = TrainStep(model, optimizer, task.Train);
        trainingSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
    accuracies.Add(new ChartSeries($"{label}: train", train.Select(a => (a.Item1, 100 * a.Item2)).ToArray()));
    accuracies.Add(new ChartSeries($"{label}: test", test.Select(a => (a.Item1, 100 * a.Item2)).ToArray()));
    ranks.Add(new ChartSeries(label, rank));
    SpectralPlots.WriteAll(monitor.Records, runDir, Attention);
    SpectralPlots.AlignmentDiagonal(monitor.Records, Pair, Path.Combine(runDir, "alignment-diagonal.svg"));
    summary.AddRow(run.name, seed.ToString(CultureInfo.InvariantCulture), F(train[^1].Item2), F(test[^1].Item2), Step(memorised), Step(generalised),
        rank[0].Item2.ToString("F1", CultureInfo.InvariantCulture), rank[^1].Item2.ToString("F1", CultureInfo.InvariantCulture),
        meanRank[0].ToString("F3", CultureInfo.InvariantCulture), meanRank[^1].ToString("F3", CultureInfo.InvariantCulture),
        (1000 * trainingSeconds / Math.Max(1, train[^1].Item1)).ToString("F1", CultureInfo.InvariantCulture));
}

new LineChart { Title = $"Addition mod {p.modulus}: accuracy", XLabel = "step", YLabel = "accuracy (%)", LogY = false, YRange = (0, 100) }.Save(Path.Combine(output, "accuracy.svg"), accuracies);
new LineChart { Title = $"Effective rank exp(H) of {Attention}", XLabel = "step", YLabel = "effective rank" }.Save(Path.Combine(output, "effective-rank.svg"), ranks);
summary.Write(Path.Combine(output, "summary.md"));
Console.WriteLine($"wrote grokking.csv, summary.md, accuracy.svg, effective-rank.svg and per run (" + string.Join(", ", runs.Select(r => r.slug)) +
                  $") the monitor's spectra.jsonl/csv and figures to {Path.GetFullPath(output)}");

// One full-batch step; the loss is taken in float64 as Nanda et al. do (float32's log-softmax rounds the tiny losses of
// the memorised training set, which weight decay then works against).
static double TrainStep(Module model, Optimizer optimizer, TensorDataset train)
{
    using var scope = NewDisposeScope();
    optimizer.zero_grad();
    Tensor loss = nn.functional.cross_entropy(model.call(train.tensors[0]).to(ScalarType.Float64), train.tensors[1]);
    loss.backward();
    optimizer.step();
    return loss.item<double>();
}

static double Accuracy(Module model, TensorDataset data)
{
    using var scope = NewDisposeScope();
    using var noGrad = no_grad();
    model.eval();
    Tensor correct = model.call(data.tensors[0]).argmax(1) == data.tensors[1];
    model.train();
    return correct.to(ScalarType.Float64).mean().item<double>();
}

static string F(double x) => x.ToString("P1", CultureInfo.InvariantCulture);

static string Step(long? step) => step is { } s ? s.ToString("N0", CultureInfo.InvariantCulture) : "never";
