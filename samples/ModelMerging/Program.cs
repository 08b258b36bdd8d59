// Model merging by summation (Kuzborskij & Abbasi-Yadkori, figure 3): two ReLU networks trained by gradient descent
// with weight decay on tasks whose inputs lie in orthogonal subspaces, merged by adding their parameters, do well on
// both tasks; two networks trained on the same inputs with different labelling functions and merged the same way do
// not. The effect needs enough weight decay, which also drives the stable rank ‖W‖F/‖W‖₂ of every weight matrix down.
// Every draw (new tasks and initial weights) repeats the sweep; writes curves (CSV, SVG) and a table of mean ± std.
using LowRankBias.Statistics;
using LowRankBias.Merging;

var cli = new ProgramCommand("model-merging", "Model merging by summation (Kuzborskij & Abbasi-Yadkori, figure 3): ReLU networks trained with weight decay on orthogonal tasks, merged by adding their parameters.");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (seconds, for CI), quick (the paper's widths 1000-100, 3,000 steps, 3 draws), paper (widths 1000-100, 100,000 steps, 10 draws)", "tiny", "quick", "paper");
var drawsOption = cli.Add<int?>("--draws", null, "random draws of tasks and initial weights (default: the preset's)");
var parsed = cli.Parse(args);
string presetName = parsed.GetValue(presetOption)!;
var p = presetName switch
{
    "tiny" => (samples: 64, hidden: new long[] { 32, 16 }, steps: 40, every: 20, lr: 1.0, decays: new[] { 1e-4, 1e-2 }, decay: 1e-2, draws: 2),
    "quick" => (samples: 1000, hidden: new long[] { 1000, 100 }, steps: 3000, every: 100, lr: 1.0, decays: new[] { 0.0, 1e-4, 1e-3, 1e-2 }, decay: 1e-4, draws: 3),
    "paper" => (samples: 1000, hidden: new long[] { 1000, 100 }, steps: 100_000, every: 1000, lr: 1.0, decays: new[] { 0.0, 1e-5, 1e-4, 1e-3, 1e-2 }, decay: 1e-4, draws: 10),
    _ => throw new ArgumentException($"unknown preset '{presetName}': use tiny, quick or paper"),
};
int draws = parsed.GetValue(drawsOption) ?? p.draws;
if (draws < 1) throw new ArgumentException($"--draws {draws}: must be at least 1");
string output = cli.Output(parsed, presetName);
const int Dim = 100;
string[] settings = ["orthogonal inputs", "shared inputs"];
Console.WriteLine($"preset {presetName}: {p.samples} samples per task, d = {Dim}; ReLU net {Dim}-{string.Join("-", p.hidden)}-1; full-batch GD lr {p.lr}, " +
                  $"{p.steps} steps; {draws} draw(s); output {Path.GetFullPath(output)}");

var rows = new CsvTable("draw", "setting", "weight_decay", "step", "loss_a", "loss_b", "merged_loss_a", "merged_loss_b", "stable_rank_sqrt_a", "stable_rank_sqrt_merged");
var finals = new List<(int draw, string setting, double decay, double mergedA, double mergedB, double a, double b)>();
var curves = new Dictionary<string, Dictionary<double, List<double>>>();
var progress = new StepProgress("model merging", (long)draws * p.decays.Length * p.steps);
progress.Run(() =>
{
    for (int draw = 0; draw < draws; draw++)
    {
        // Task A: inputs in one 50-dim subspace, labels sign(sin(w_Aᵀx)). Network B learns either task B (inputs in the
        // orthogonal subspace, its own w_B) or task A's inputs labelled by w_B — the paper's failing case.
        using var tasks = new OrthogonalTasks(tasks: 2, samples: p.samples, dim: Dim, seed: 1 + (ulong)draw);
        using TensorDataset sharedInputs = tasks.Relabelled(task: 0, labelling: 1);
        TensorDataset taskA = tasks.Datasets[0];
        foreach (double decay in p.decays)
        {
            // Network A is the same in both settings, so it is trained once; each B starts from the same weights.
            manual_seed(10 + (ulong)draw);
            using MLP a = Network();
            using var optA = new SGD(a.parameters(), lr: p.lr, weight_decay: decay);
            var bs = settings.Select(setting =>
            {
                manual_seed(1000 + (ulong)draw);
                MLP b = Network();
                return (setting, b, opt: new SGD(b.parameters(), lr: p.lr, weight_decay: decay),
                        data: setting == "orthogonal inputs" ? tasks.Datasets[1] : sharedInputs);
            }).ToArray();
            var last = new (double la, double lb, double ma, double mb)[bs.Length];
            try
            {
                for (int step = 0; step <= p.steps; step++)
                {
                    if (step % p.every == 0 || step == p.steps)
                    {
                        double la = Loss(a, taskA), srA = MeanStableRank(a);
                        if (decay == p.decay)
                        {
                            Add("A on its task", step, la);
                            Add("‖W‖F/‖W‖₂: A", step, srA);
                        }
                        for (int i = 0; i < bs.Length; i++)
                        {
                            var (setting, b, _, dataB) = bs[i];
                            using MLP merged = Sum(a, b);
                            last[i] = (la, Loss(b, dataB), Loss(merged, taskA), Loss(merged, dataB));
                            double srMerged = MeanStableRank(merged);
                            rows.Add(draw, setting, decay, step, la, last[i].lb, last[i].ma, last[i].mb, srA, srMerged);
                            if (decay == p.decay)
                            {
                                Add($"{setting}: merged on A's task", step, last[i].ma);
                                Add($"{setting}: merged on B's task", step, last[i].mb);
                                Add($"‖W‖F/‖W‖₂: merged ({setting})", step, srMerged);
                            }
                        }
                    }
                    if (step == p.steps) break;
                    Step(a, optA, taskA);
                    foreach (var (_, b, opt, dataB) in bs) Step(b, opt, dataB);
                    progress.Step();
                }
            }
            finally
            {
                foreach (var (_, b, opt, _) in bs) { opt.Dispose(); b.Dispose(); }
            }
            for (int i = 0; i < bs.Length; i++)
            {
                finals.Add((draw, bs[i].setting, decay, last[i].ma, last[i].mb, last[i].la, last[i].lb));
                progress.Note(string.Create(CultureInfo.InvariantCulture,
                    $"draw {draw}, weight decay {decay:G2}, {bs[i].setting}: loss A {last[i].la:F4}, B {last[i].lb:F4}; merged on A's task {last[i].ma:F4}, on B's task {last[i].mb:F4}"));
            }
        }
    }
});

rows.Save(Path.Combine(output, "merging.csv"));
string drawn = draws > 1 ? $", mean of {draws} draws" : "";
Plot("merging-loss.svg", $"Training loss, weight decay {p.decay:G2}{drawn}", "logistic loss", log: true, name => !name.StartsWith('‖'));
Plot("stable-rank.svg", $"Mean ‖W‖F/‖W‖₂ (√ stable rank) of the weight matrices, weight decay {p.decay:G2}{drawn}", "‖W‖F/‖W‖₂", log: false, name => name.StartsWith('‖'));
double Position(double decay) => decay > 0 ? Math.Log10(decay) : Math.Log10(p.decays.Where(d => d > 0).Min()) - 1; // λ = 0 one decade left
var sweep = new LineChart
{
    Title = $"Merged network after training vs weight decay (mean loss on both tasks{drawn})", XLabel = "weight decay λ", YLabel = "logistic loss", LogY = true,
    XTicks = p.decays.Select(d => (Position(d), d > 0 ? d.ToString("0e0", CultureInfo.InvariantCulture) : "0")).ToArray(),
};
sweep.Save(Path.Combine(output, "weight-decay-sweep.svg"), finals.GroupBy(f => f.setting)
    .Select(g => new ChartSeries($"merged, {g.Key}", g.GroupBy(f => f.decay).Select(d => (Position(d.Key), d.Average(f => (f.mergedA + f.mergedB) / 2))).ToArray())).ToArray());

var summary = new SummaryTable("weight decay", "setting", "A on its task", "B on its task", "merged on A's task", "merged on B's task");
foreach (var g in finals.GroupBy(f => (f.decay, f.setting)))
    summary.AddRow(g.Key.decay.ToString("G2", CultureInfo.InvariantCulture), g.Key.setting, MeanStd(g.Select(f => f.a)), MeanStd(g.Select(f => f.b)),
        MeanStd(g.Select(f => f.mergedA)), MeanStd(g.Select(f => f.mergedB)));
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

void Add(string name, double step, double value)
{
    var byStep = curves.TryGetValue(name, out var found) ? found : curves[name] = [];
    (byStep.TryGetValue(step, out var values) ? values : byStep[step] = []).Add(value);
}

void Plot(string file, string title, string yLabel, bool log, Func<string, bool> include) =>
    new LineChart { Title = title, XLabel = "gradient-descent step", YLabel = yLabel, LogY = log }
        .Save(Path.Combine(output, file), curves.Where(c => include(c.Key)).Select(c => new ChartSeries(c.Key, c.Value.Select(v => (v.Key, v.Value.Average())).ToArray())).ToArray());

// Mean ± sample standard deviation over the draws (the mean alone for one draw).
static string MeanStd(IEnumerable<double> values) => SeedSpread.MeanStd(values.ToArray(), "F4");
