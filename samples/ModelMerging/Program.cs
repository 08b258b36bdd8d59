// Model merging by summation (Kuzborskij & Abbasi-Yadkori, figure 3): two ReLU networks trained by gradient descent
// with weight decay on tasks whose inputs lie in orthogonal subspaces, merged by adding their parameters, do well on
// both tasks; two networks trained on the same task and merged the same way do not. The effect needs enough weight
// decay, which also drives the stable rank ‖W‖F/‖W‖₂ of every weight matrix down. Writes curves (CSV, SVG) and a table.
using System.Globalization;
using LowRankBias.Merging;
using LowRankBias.Plotting;
using LowRankBias.Samples;
using LowRankBias.Spectral;
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

var cli = new ProgramCommand("model-merging", "Model merging by summation (Kuzborskij & Abbasi-Yadkori, figure 3): ReLU networks trained with weight decay on orthogonal tasks, merged by adding their parameters.");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (seconds, for CI), quick (widths 256-64, 3,000 steps), paper (widths 1000-100, 100,000 steps)", "tiny", "quick", "paper");
var parsed = cli.Parse(args);
string presetName = parsed.GetValue(presetOption)!;
var p = presetName switch
{
    "tiny" => (samples: 64, hidden: new long[] { 32, 16 }, steps: 40, every: 20, lr: 1.0, decays: new[] { 1e-4, 1e-2 }, decay: 1e-2),
    "quick" => (samples: 1000, hidden: new long[] { 256, 64 }, steps: 3000, every: 100, lr: 1.0, decays: new[] { 0.0, 1e-4, 1e-3, 1e-2 }, decay: 1e-3),
    "paper" => (samples: 1000, hidden: new long[] { 1000, 100 }, steps: 100_000, every: 1000, lr: 1.0, decays: new[] { 0.0, 1e-5, 1e-4, 1e-3, 1e-2 }, decay: 1e-4),
    _ => throw new ArgumentException($"unknown preset '{presetName}': use tiny, quick or paper"),
};
string output = cli.Output(parsed, presetName);
const int Dim = 100;
using var tasks = new OrthogonalTasks(tasks: 2, samples: p.samples, dim: Dim, seed: 1);
TensorDataset taskA = tasks.Datasets[0], taskB = tasks.Datasets[1];
Console.WriteLine($"preset {presetName}: {p.samples} samples per task in orthogonal {Dim / 2}-dim subspaces of R^{Dim}; ReLU net {Dim}-{string.Join("-", p.hidden)}-1; " +
                  $"full-batch GD lr {p.lr}, {p.steps} steps; output {Path.GetFullPath(output)}");

var rows = new List<string> { "setting,weight_decay,step,loss_a,loss_b,merged_loss_a,merged_loss_b,stable_rank_sqrt_a,stable_rank_sqrt_merged" };
var finals = new List<(string setting, double decay, double mergedA, double mergedB, double a, double b)>();
var curves = new Dictionary<string, List<(double step, double value)>>();
foreach (double decay in p.decays)
foreach (string setting in new[] { "different tasks", "same task" })
{
    // Network A always learns task A; network B learns task B ("different tasks") or task A again from another init.
    TensorDataset dataB = setting == "different tasks" ? taskB : taskA;
    manual_seed(10);
    using MLP a = Network();
    manual_seed(20);
    using MLP b = Network();
    using var optA = new SGD(a.parameters(), lr: p.lr, weight_decay: decay);
    using var optB = new SGD(b.parameters(), lr: p.lr, weight_decay: decay);
    (double la, double lb, double ma, double mb) last = default;
    for (int step = 0; step <= p.steps; step++)
    {
        if (step % p.every == 0 || step == p.steps)
        {
            using MLP merged = Sum(a, b);
            last = (Loss(a, taskA), Loss(b, dataB), Loss(merged, taskA), Loss(merged, dataB));
            double srA = MeanStableRank(a), srMerged = MeanStableRank(merged);
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"{setting},{decay},{step},{last.la:R},{last.lb:R},{last.ma:R},{last.mb:R},{srA:R},{srMerged:R}"));
            if (decay == p.decay)
            {
                Add($"{setting}: A on its task", step, last.la);
                Add($"{setting}: merged on A's task", step, last.ma);
                Add($"{setting}: merged on B's task", step, last.mb);
                Add($"stable rank: A ({setting})", step, srA);
                Add($"stable rank: merged ({setting})", step, srMerged);
            }
        }
        if (step == p.steps) break;
        Step(a, optA, taskA);
        Step(b, optB, dataB);
    }
    finals.Add((setting, decay, last.ma, last.mb, last.la, last.lb));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"weight decay {decay:G2}, {setting}: loss A {last.la:F4}, B {last.lb:F4}; merged on A's task {last.ma:F4}, on B's task {last.mb:F4}"));
}

File.WriteAllLines(Path.Combine(output, "merging.csv"), rows);
Plot("merging-loss.svg", $"Training loss, weight decay {p.decay:G2}", "logistic loss", log: true, name => !name.StartsWith("stable", StringComparison.Ordinal));
Plot("stable-rank.svg", $"Mean stable rank ‖W‖F/‖W‖₂ of the weight matrices, weight decay {p.decay:G2}", "stable rank", log: false, name => name.StartsWith("stable", StringComparison.Ordinal));
var sweep = new LineChart { Title = "Merged network after training vs weight decay (mean loss on both tasks)", XLabel = "weight decay λ (0 plotted at the left end)", YLabel = "logistic loss", LogY = true };
double Position(double decay) => decay > 0 ? Math.Log10(decay) : Math.Log10(p.decays.Where(d => d > 0).Min()) - 1;
sweep.Save(Path.Combine(output, "weight-decay-sweep.svg"), finals.GroupBy(f => f.setting)
    .Select(g => new ChartSeries($"merged, {g.Key}", g.Select(f => (Position(f.decay), (f.mergedA + f.mergedB) / 2)).ToArray())).ToArray());

var summary = new SummaryTable("weight decay", "setting", "A on its task", "B on its task", "merged on A's task", "merged on B's task");
foreach (var f in finals) summary.AddRow(f.decay.ToString("G2", CultureInfo.InvariantCulture), f.setting, F(f.a), F(f.b), F(f.mergedA), F(f.mergedB));
summary.Write(Path.Combine(output, "summary.md"));
Console.WriteLine($"wrote merging.csv, summary.md, merging-loss.svg, stable-rank.svg, weight-decay-sweep.svg to {Path.GetFullPath(output)}");

MLP Network() => new(new MLP.Config { widths = [Dim, .. p.hidden, 1] });

static double Loss(Module model, TensorDataset data)
{
    using var scope = NewDisposeScope();
    using var noGrad = no_grad();
    return LogisticLoss(model, data).item<float>();
}

// log(1 + exp(−y f(x))), the logistic loss on labels y ∈ {−1, +1}; softplus straight from ATen.
static Tensor LogisticLoss(Module model, TensorDataset data) =>
    new Op("aten::softplus").Call(-(model.call(data.tensors[0]).squeeze(1) * data.tensors[1])).mean();

static void Step(Module model, Optimizer optimizer, TensorDataset data)
{
    using var scope = NewDisposeScope();
    optimizer.zero_grad();
    LogisticLoss(model, data).backward();
    optimizer.step();
}

// The merged network: every parameter of a plus the same parameter of b.
MLP Sum(MLP x, MLP y)
{
    MLP merged = Network();
    ModelSpace.Sum(merged, x, y);
    return merged;
}

static double MeanStableRank(Module model) =>
    SpectralMetrics.Analyze(model.named_parameters().Where(q => q.parameter.dim() == 2 && q.parameter.size(0) > 1).Select(q => (q.name, q.parameter)).ToList())
        .Average(m => m.StableRankSqrt);   // Kuzborskij et al.'s stable rank ‖W‖F/‖W‖₂

void Add(string name, double step, double value) => (curves.TryGetValue(name, out var list) ? list : curves[name] = []).Add((step, value));

void Plot(string file, string title, string yLabel, bool log, Func<string, bool> include) =>
    new LineChart { Title = title, XLabel = "gradient-descent step", YLabel = yLabel, LogY = log }
        .Save(Path.Combine(output, file), curves.Where(c => include(c.Key)).Select(c => new ChartSeries(c.Key, c.Value)).ToArray());

static string F(double x) => x.ToString("F4", CultureInfo.InvariantCulture);
