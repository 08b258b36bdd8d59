// Grokking and the spectral dynamics of weights (Yunis et al., figure 2): a one-layer transformer learns addition
// modulo p from a fraction of the p² pairs. With 30% of the data and weight decay 1 (Nanda et al.'s setting) it first
// memorises, then suddenly generalises — and that jump coincides with its weights turning low-rank and with the
// embedding aligning with the first attention matrix. Without weight decay neither happens within the budget; with 90%
// of the data the weights are low-rank from early on. A SpectralMonitor records every matrix during training.
using System.Globalization;
using LowRankBias.Plotting;
using LowRankBias.Samples;
using LowRankBias.Spectral;
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

var cli = new ProgramCommand("grokking", "Grokking and the spectral dynamics of weights (Yunis et al., figure 2): a one-layer transformer learns addition modulo p; a SpectralMonitor records every matrix.");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (seconds, for CI), quick (--modulus, --steps, width 64), paper (p = 97, 40,000 steps, width 128)", "tiny", "quick", "paper");
var modulusOption = cli.Add("--modulus", 59, "modulus p (quick preset)");
var stepsOption = cli.Add("--steps", 8000, "full-batch training steps (quick preset)");
var runOption = cli.Choice("--run", "all", "which run", "all", "data30-wd0", "data30-wd1", "data90-wd0");
var parsed = cli.Parse(args);
string presetName = parsed.GetValue(presetOption)!;
var p = presetName switch
{
    "tiny" => (modulus: 11, steps: 20, every: 10, width: 32L),
    "quick" => (modulus: parsed.GetValue(modulusOption), steps: parsed.GetValue(stepsOption), every: 100, width: 64L),
    "paper" => (modulus: 97, steps: 40_000, every: 100, width: 128L),
    _ => throw new ArgumentException($"unknown preset '{presetName}': use tiny, quick or paper"),
};
(string name, string slug, double fraction, double decay)[] runs =
[
    ("30% data, no weight decay", "data30-wd0", 0.3, 0.0),
    ("30% data, weight decay 1 (grokking)", "data30-wd1", 0.3, 1.0),
    ("90% data, no weight decay", "data90-wd0", 0.9, 0.0),
];
if (parsed.GetValue(runOption) is { } only and not "all") runs = runs.Where(r => r.slug == only).ToArray();
string output = cli.Output(parsed, presetName);
const string Attention = "blocks.0.attn.q", Pair = "embed → blocks.0.attn.q";
Console.WriteLine($"preset {presetName}: addition mod {p.modulus}, one-layer transformer (Nanda et al.), full-batch AdamW lr 1e-3, betas (0.9, 0.98), " +
                  $"{p.steps:N0} steps, spectra every {p.every}; output {Path.GetFullPath(output)}");

var rows = new List<string> { "run,step,train_error,test_error,effective_rank_attention,alignment_embed_attention" };
var errors = new List<ChartSeries>();
var ranks = new List<ChartSeries>();
var summary = new SummaryTable("run", "train error", "test error", "test error ≤ 5% at step", $"effective rank of {Attention}, start", "end");
foreach (var run in runs)
{
    manual_seed(0);
    using var task = new ModularAddition(p.modulus, run.fraction, seed: 0);
    using var model = new ModularAdditionTransformer(ModularAdditionTransformer.Config.Yunis with { p = p.modulus, d_model = p.width, d_mlp = 4 * p.width });
    using var optimizer = new AdamW(model.parameters(), lr: 1e-3, betas: (0.9, 0.98), weight_decay: run.decay);
    string runDir = Path.Combine(output, run.slug);
    using var monitor = new SpectralMonitor(model, runDir, new SpectralMonitorOptions { Every = p.every, Agreement = false });
    var train = new List<(double, double)>();
    var test = new List<(double, double)>();
    var rank = new List<(double, double)>();
    long? generalised = null;
    var clock = System.Diagnostics.Stopwatch.StartNew();
    for (int step = 0; step <= p.steps; step++)
    {
        if (step % p.every == 0 || step == p.steps)
        {
            double trainError = Error(model, task.Train), testError = Error(model, task.Test);
            SpectralRecord record = monitor.Record(step);
            double effectiveRank = record.Layers.Single(l => l.Name == Attention).EffectiveRank;
            double alignment = record.Alignment.Single(a => a.Name == Pair).Score;
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"{run.slug},{step},{trainError:R},{testError:R},{effectiveRank:R},{alignment:R}"));
            train.Add((step, trainError));
            test.Add((step, testError));
            rank.Add((step, effectiveRank));
            if (testError <= 0.05) generalised ??= step;
            if (step % (10 * p.every) == 0 || step == p.steps)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{run.name}: step {step,6:N0}  train error {trainError:P1}  test error {testError:P1}  effective rank of {Attention} {effectiveRank:F1}  ({clock.Elapsed.TotalSeconds:F0} s)"));
        }
        if (step == p.steps) break;
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        nn.functional.cross_entropy(model.call(task.Train.tensors[0]), task.Train.tensors[1]).backward();
        optimizer.step();
    }
    errors.Add(new ChartSeries($"{run.name}: train", train));
    errors.Add(new ChartSeries($"{run.name}: test", test));
    ranks.Add(new ChartSeries(run.name, rank));
    SpectralPlots.WriteAll(monitor.Records, runDir, Attention);
    SpectralPlots.AlignmentDiagonal(monitor.Records, Pair, Path.Combine(runDir, "alignment-diagonal.svg"));
    summary.AddRow(run.name, F(train[^1].Item2), F(test[^1].Item2), generalised is { } g ? g.ToString("N0", CultureInfo.InvariantCulture) : "never",
        rank[0].Item2.ToString("F1", CultureInfo.InvariantCulture), rank[^1].Item2.ToString("F1", CultureInfo.InvariantCulture));
}

File.WriteAllLines(Path.Combine(output, "grokking.csv"), rows);
new LineChart { Title = $"Addition mod {p.modulus}: error", XLabel = "step", YLabel = "error" }.Save(Path.Combine(output, "error.svg"), errors);
new LineChart { Title = $"Effective rank exp(H) of {Attention}", XLabel = "step", YLabel = "effective rank" }.Save(Path.Combine(output, "effective-rank.svg"), ranks);
summary.Write(Path.Combine(output, "summary.md"));
Console.WriteLine($"wrote grokking.csv, summary.md, error.svg, effective-rank.svg and per run (" + string.Join(", ", runs.Select(r => r.slug)) +
                  $") the monitor's spectra.jsonl/csv and figures to {Path.GetFullPath(output)}");

static double Error(Module model, TensorDataset data)
{
    using var scope = NewDisposeScope();
    using var noGrad = no_grad();
    model.eval();
    Tensor correct = model.call(data.tensors[0]).argmax(1) == data.tensors[1];
    model.train();
    return 1 - correct.to(ScalarType.Float64).mean().item<double>();
}

static string F(double x) => x.ToString("P1", CultureInfo.InvariantCulture);
