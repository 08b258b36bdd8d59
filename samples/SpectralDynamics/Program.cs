// The spectral dynamics of training (Yunis et al., figures 3, 4, 6 and 8) on a 4-layer ReLU MLP and Fashion-MNIST:
// every weight matrix's effective rank over time (a heatmap), how much of the function lives in the top vs the bottom
// half of each matrix's spectrum (pruned without retraining, at every record; every layer but the classifier, as the
// paper), how weight decay drives the rank down ("dynamics"), and how memorising random labels changes the rank
// ("memorisation", Memorisation.cs). A SpectralMonitor records every matrix during each run.
using LowRankBias.Torch.Training;

var cli = new ProgramCommand("spectral-dynamics", "The spectral dynamics of training (Yunis et al., figures 3, 4, 6, 8): a 4-layer ReLU MLP on Fashion-MNIST, its effective ranks, SVD pruning, weight decay and random labels.");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (seconds, for CI), quick (10,000 images, width 512, 4,000 steps), paper (60,000 images, width 1024, 60,000 steps)", "tiny", "quick", "paper");
var experimentArgument = cli.Positional("experiment", "all", "which experiment", "dynamics", "memorisation", "all");
var decaysOption = cli.Optional<string>("--decays", "comma-separated weight decays of the dynamics runs (default: the preset's)", "LIST");
var seedOption = cli.Add("--seed", 0, "seed of the initialisation, the data order and the random labels (0: the recorded runs)");
var parsed = cli.Parse(args);
int seed = parsed.GetValue(seedOption);
if (seed < 0) throw new ArgumentException($"--seed {seed}: must be at least 0");
string experiment = parsed.GetValue(experimentArgument)!;
string presetName = parsed.GetValue(presetOption)!;
var p = presetName switch
{
    "tiny" => (train: 512, test: 512, width: 64L, steps: 20, every: 10, decays: new[] { 0.0, 1e-2 }, memorise: (images: 256, steps: 40, every: 10)),
    "quick" => (train: 10_000, test: 5_000, width: 512L, steps: 4_000, every: 200, decays: new[] { 0.0, 1e-4, 1e-3, 1e-2 }, memorise: (images: 2_000, steps: 20_000, every: 50)),
    "paper" => (train: 60_000, test: 10_000, width: 1024L, steps: 60_000, every: 1_000, decays: new[] { 0.0, 1e-4, 1e-3, 1e-2, 1e-1 }, memorise: (images: 5_000, steps: 100_000, every: 200)),
    _ => throw new ArgumentException($"unknown preset '{presetName}': use tiny, quick or paper"),
};
if (parsed.GetValue(decaysOption) is { } decayList) p.decays = decayList.Split(',').Select(d => double.Parse(d, CultureInfo.InvariantCulture)).ToArray();
string output = cli.Output(parsed, presetName);
if (experiment is "memorisation" or "all") Memorisation.Run(p.memorise.images, p.width, p.memorise.steps, p.memorise.every, seed, output);
if (experiment is "memorisation") return;
const int Batch = 128;
const double Lr = 0.01;
Console.WriteLine($"preset {presetName}: MLP 784-{p.width}-{p.width}-{p.width}-10 on {p.train:N0} Fashion-MNIST images, SGD lr {Lr} momentum 0.9, " +
                  $"batch {Batch}, {p.steps:N0} steps, spectra every {p.every}, seed {seed}; output {Path.GetFullPath(output)}");

using TensorDataset trainAll = FashionMnist.Load(train: true), testAll = FashionMnist.Load(train: false);
using TensorDataset train = Flat(trainAll, p.train), test = Flat(testAll, p.test);

var runs = p.decays.Select(d => (name: $"weight decay {d:G2}", slug: $"wd{d:G2}", data: train, decay: d, prune: d == 0)).ToArray();
var rows = new CsvTable("run", "step", "train_accuracy", "test_accuracy", "mean_normalized_effective_rank", "test_accuracy_top_half_removed", "test_accuracy_bottom_half_removed");
var meanRank = new List<ChartSeries>();
var pruning = new List<ChartSeries>();
var summary = new SummaryTable("run", "train accuracy", "test accuracy", "mean exp(H)/R at start", "at end");
foreach (var run in runs)
{
    manual_seed((ulong)seed);
    using var model = new MLP(new MLP.Config { widths = [784, p.width, p.width, p.width, 10] });
    using var optimizer = new SGD(model.parameters(), lr: Lr, momentum: 0.9, weight_decay: run.decay);
    var loader = new DataLoader(run.data, batch_size: Batch, shuffle: true, drop_last: true, seed: 1 + (ulong)seed);
    string runDir = Path.Combine(output, run.slug);
    using var monitor = new SpectralMonitor(model, runDir, new SpectralMonitorOptions { Every = p.every });
    var rank = new List<(double, double)>();
    var (full, noTop, noBottom) = (new List<(double, double)>(), new List<(double, double)>(), new List<(double, double)>());
    (double trainAccuracy, double testAccuracy) last = default;
    var clock = System.Diagnostics.Stopwatch.StartNew();
    // The model after `step` steps: spectra, accuracies and, for the run without weight decay, the pruned accuracies.
    void Record(long step)
    {
        SpectralRecord record = monitor.Record(step);
        double mean = record.Layers.Average(l => l[SpectrumColumns.NormalizedEffectiveRank]);
        last = (Accuracy(model, run.data), Accuracy(model, test));
        double withoutTop = double.NaN, withoutBottom = double.NaN;
        if (run.prune)
        {
            using (SvdPruning.Apply(model, 0.5, SpectrumPart.Top)) withoutTop = Accuracy(model, test);
            using (SvdPruning.Apply(model, 0.5, SpectrumPart.Bottom)) withoutBottom = Accuracy(model, test);
            full.Add((step, 100 * last.testAccuracy));
            noTop.Add((step, 100 * withoutTop));
            noBottom.Add((step, 100 * withoutBottom));
        }
        rank.Add((step, mean));
        rows.Add(run.slug, step, last.trainAccuracy, last.testAccuracy, mean, withoutTop, withoutBottom);
        if (step % (5 * p.every) == 0 || step == p.steps)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{run.name}: step {step,6:N0}  train accuracy {last.trainAccuracy:P1}  test accuracy {last.testAccuracy:P1}  mean exp(H)/R {mean:F3}  ({clock.Elapsed.TotalSeconds:F0} s)"));
    }
    Record(0);
    using var trainer = new Trainer(model, optimizer, ClassificationLoss.CrossEntropy(),
        new TrainerOptions { MaxSteps = p.steps, LogEvery = 5 * p.every, Display = LiveTrainingProgress.IfInteractive() });
    trainer.AddCallback(p.every, t => Record(t.Step));
    trainer.Fit(loader);
    if (p.steps % p.every != 0) Record(p.steps);
    meanRank.Add(new ChartSeries(run.name, rank));
    if (run.prune)
    {
        pruning.Add(new ChartSeries("full model", full));
        pruning.Add(new ChartSeries("bottom half of every spectrum removed", noBottom));
        pruning.Add(new ChartSeries("top half of every spectrum removed", noTop));
    }
    SpectralPlots.WriteAll(monitor.Records, runDir, "layers.1");
    summary.AddRow(run.name, F(last.trainAccuracy), F(last.testAccuracy), rank[0].Item2.ToString("F3", CultureInfo.InvariantCulture), rank[^1].Item2.ToString("F3", CultureInfo.InvariantCulture));
}

rows.Save(Path.Combine(output, "spectral-dynamics.csv"));
new LineChart
{
    Title = "Mean normalised effective rank exp(H)/R of the 4 weight matrices", XLabel = "step", YLabel = "exp(H)/R",
}.Save(Path.Combine(output, "effective-rank.svg"), meanRank);
new LineChart
{
    Title = "Test accuracy with half of the spectrum removed from every weight matrix but the classifier's (no weight decay)", XLabel = "step", YLabel = "test accuracy (%)",
}.Save(Path.Combine(output, "pruning.svg"), pruning);
summary.Write(Path.Combine(output, "summary.md"));
Console.WriteLine($"wrote spectral-dynamics.csv, summary.md, effective-rank.svg, pruning.svg and per run the monitor's records and figures to {Path.GetFullPath(output)}");

static TensorDataset Flat(TensorDataset all, int count)
{
    using TensorDataset part = all.Take(count);
    using var scope = NewDisposeScope();
    return new TensorDataset(part.tensors[0].reshape(-1, 784), part.tensors[1]);
}

static double Accuracy(Module model, TensorDataset data)
{
    using var scope = NewDisposeScope();
    using var noGrad = no_grad();
    return (model.call(data.tensors[0]).argmax(1) == data.tensors[1]).to(ScalarType.Float64).mean().item<double>();
}

static string F(double x) => x.ToString("P1", CultureInfo.InvariantCulture);
