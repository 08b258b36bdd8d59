// Transfer learning from ML.NET's ImageNet ResNet-18 to Fashion-MNIST (issue 32): (a) a linear probe (features frozen,
// a new classifier trained), (b) LoRA on every convolution at r = 4, 8, 16 (classifier trained, BatchNorm frozen),
// (c) full fine-tuning, (d) the same ResNet-18 from random weights — every one on the same batches for each seed.
// Records test accuracy against training samples seen, parameters trained and wall time; a table of mean ± std over
// seeds with Welch's t-test against the linear probe; the singular values and effective rank of the learned ΔW per
// convolution (s·BA for LoRA r = 16, W_finetuned − W_pretrained for full fine-tuning); and the best LoRA model merged
// into plain ResNet-18 weights and exported to ONNX, re-scored in ONNX Runtime.
using System.Diagnostics;
using LowRankBias.Lora;
using LowRankBias.Samples.TransferLearning;
using LowRankBias.Statistics;

var cli = new ProgramCommand("transfer-learning", "Fine-tunes ML.NET's ImageNet ResNet-18 on Fashion-MNIST: linear probe, LoRA r = 4/8/16 on the convolutions, full fine-tuning, and from scratch.");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (seconds, for CI: 2 steps), quick (32×32 input, 60 steps of 32, 3 seeds: ≤ 15 min on 2 shared cores), paper (64×64, 1,000 steps of 64, 5 seeds)", "tiny", "quick", "paper");
var seedsOption = cli.Add<int?>("--seeds", null, "seeds per method (default: the preset's; Welch's test needs 2)");
var stepsOption = cli.Add<int?>("--steps", null, "training steps per run (default: the preset's)");
var testOption = cli.Add<int?>("--test", null, "test images scored at each evaluation (default: the preset's)");
var modelsOption = cli.Add("--models", Pretrained.DefaultFolder, "folder holding ResNet18Onnx/ResNet18.onnx and ResNetPrepOnnx/ResNetPreprocess.onnx");
var parsed = cli.Parse(args);
string presetName = parsed.GetValue(presetOption)!;
var p = presetName switch
{
    "tiny" => (size: 32L, batch: 8, steps: 2, evals: 1, test: 64, seeds: 2),
    "quick" => (size: 32L, batch: 32, steps: 60, evals: 3, test: 500, seeds: 3),
    "paper" => (size: 64L, batch: 64, steps: 1000, evals: 10, test: 10_000, seeds: 5),
    _ => throw new ArgumentException($"unknown preset '{presetName}': use tiny, quick or paper"),
};
int seeds = parsed.GetValue(seedsOption) ?? p.seeds, steps = parsed.GetValue(stepsOption) ?? p.steps, testCount = parsed.GetValue(testOption) ?? p.test;
if (seeds < 1) throw new ArgumentException($"--seeds {seeds}: must be at least 1");
if (steps < 1) throw new ArgumentException($"--steps {steps}: must be at least 1");
if (testCount is < 1 or > 10_000) throw new ArgumentException($"--test {testCount}: must be between 1 and 10000");
string modelsFolder = parsed.GetValue(modelsOption)!;
if (!Directory.Exists(modelsFolder)) throw new ArgumentException($"--models {modelsFolder}: no such folder");
string output = Path.GetFullPath(cli.OutputPath(parsed, presetName));
Method[] methods = [Method.LinearProbe, Method.Lora(4), Method.Lora(8), Method.Lora(16), Method.FullFineTuning, Method.FromScratch];
int evalEvery = Math.Max(1, steps / p.evals);

var clock = Stopwatch.StartNew();
using Pretrained pretrained = Pretrained.Load(modelsFolder);
ProgramCommand.CreateOutput(output);
Console.WriteLine($"preset {presetName}: ResNet-18 from {modelsFolder} (loaded in {clock.Elapsed.TotalSeconds:F1} s); Fashion-MNIST upsampled ×{p.size / 28} (nearest), " +
                  $"zero-padded to {p.size}×{p.size}, grey → 3 channels, ×255, the featurizer's BGR and (per-channel) mean subtraction; batch {p.batch}, {steps} steps, test accuracy on {testCount} images " +
                  $"every {evalEvery} steps; {seeds} seed(s); output {output}");
set_num_threads(Environment.ProcessorCount);

using TensorDataset train = FashionMnist.Load(train: true), test = FashionMnist.Load(train: false);
using Tensor testImages = pretrained.Prepare(test.tensors[0].narrow(0, 0, testCount), p.size), testLabels = test.tensors[1].narrow(0, 0, testCount).clone();

var runs = new List<Run>();
Run? bestLora = null;
ResNet? bestLoraMerged = null;
var spectra = new List<(string method, MatrixSpectrumRow row)>();
var progress = new StepProgress("transfer learning", (long)seeds * methods.Length * steps);
progress.Run(() =>
{
    // Seed-major, methods interleaved: a slow spell of the shared machine falls on every method alike.
    for (int seed = 0; seed < seeds; seed++)
        foreach (Method method in methods)
        {
            manual_seed(100 + (ulong)seed);
            using Module model = method.Build(pretrained);
            Run run = Train(method, seed, model);
            runs.Add(run);
            progress.Note(string.Create(CultureInfo.InvariantCulture,
                $"seed {seed}, {method.Name}: test accuracy {run.Final:P2}, {run.Trained:N0} parameters trained, {run.Seconds:F1} s"));
            if (seed == 0 && method.Name is "LoRA r=16" or "full fine-tuning")
                spectra.AddRange(DeltaSpectra.Of(method, model, pretrained).Select(r => (method.Name, r)));
            if (method.LoraRank > 0 && (bestLora is null || run.Final > bestLora.Final))
            {
                bestLora = run;
                // Merged weights copied into a ResNet of its own: the LoRA model (and what it unloads to) goes at the end of this run.
                bestLoraMerged?.Dispose();
                var merged = (ResNet)((LoraModel)model).merge_and_unload();
                bestLoraMerged = new ResNet(pretrained.Config with { num_classes = 10 });
                bestLoraMerged.load_state_dict(merged.state_dict());
            }
        }
});

// Curves, runs, table.
var curveTable = new CsvTable("method", "seed", "step", "samples_seen", "test_accuracy");
var runTable = new CsvTable("method", "seed", "trained_parameters", "test_accuracy", "seconds");
foreach (var r in runs)
{
    foreach (var c in r.Curve) curveTable.Add(r.Method, r.Seed, c.step, c.step * (long)p.batch, c.accuracy);
    runTable.Add(r.Method, r.Seed, r.Trained, r.Final, r.Seconds);
}
curveTable.Save(Path.Combine(output, "curves.csv"));
runTable.Save(Path.Combine(output, "runs.csv"));
new LineChart
{
    Title = $"Fashion-MNIST test accuracy ({testCount} images), ResNet-18 at {p.size}×{p.size}" + (seeds > 1 ? $", mean ± std over {seeds} seeds" : ""),
    XLabel = "training samples seen", YLabel = "test accuracy", LogX = false, LogY = false,
}.Save(Path.Combine(output, "accuracy-vs-samples.svg"), methods.Select(m =>
{
    var points = runs.Where(r => r.Method == m.Name).SelectMany(r => r.Curve).GroupBy(c => c.step).OrderBy(g => g.Key)
        .Select(g => (samples: (double)g.Key * p.batch, accuracies: g.Select(c => c.accuracy).ToArray())).ToArray();
    return new ChartSeries(m.Name, points.Select(q => (q.samples, q.accuracies.Average())).ToArray())
    {
        Spread = seeds > 1 ? points.Select(q => SeedSpread.Std(q.accuracies)).ToArray() : null,
    };
}).ToArray());

double[] probe = runs.Where(r => r.Method == Method.LinearProbe.Name).Select(r => r.Final).ToArray();
var table = new SummaryTable("method", "parameters trained", "test accuracy", "training time (s)", "Δ vs linear probe", "Welch t", "p");
foreach (Method m in methods)
{
    Run[] rs = runs.Where(r => r.Method == m.Name).ToArray();
    double[] acc = rs.Select(r => r.Final).ToArray();
    string t = "—", pValue = "—";
    if (m != Method.LinearProbe && acc.Length > 1)
    {
        WelchTest.Result w = WelchTest.Test(acc, probe);
        t = double.IsNaN(w.T) ? "—" : w.T.ToString("F2", CultureInfo.InvariantCulture);
        pValue = double.IsNaN(w.P) ? "—" : w.P.ToString("G2", CultureInfo.InvariantCulture);
    }
    table.AddRow(m.Name, rs[0].Trained.ToString("N0", CultureInfo.InvariantCulture), SeedSpread.MeanStd(acc, "F4"), SeedSpread.MeanStd(rs.Select(r => r.Seconds).ToArray(), "F1"),
        m == Method.LinearProbe ? "—" : (acc.Average() - probe.Average()).ToString("+0.0000;-0.0000", CultureInfo.InvariantCulture), t, pValue);
}
table.Write(Path.Combine(output, "summary.md"));

// Spectra of the learned updates (seed 0).
var spectraTable = new CsvTable("method", "layer", "index", "effective_rank", "stable_rank", "singular_values");
foreach (var s in spectra)
    spectraTable.Add(s.method, s.row.Layer, s.row.Index, s.row.EffectiveRank, s.row.StableRank, string.Join(' ', s.row.SingularValues.Select(v => CsvTable.Cell(v))));
spectraTable.Save(Path.Combine(output, "spectra.csv"));
DeltaSpectra.Plot(output, spectra);

// The best LoRA run, merged into plain ResNet-18 weights: scored here, exported to ONNX and scored in ONNX Runtime.
string onnxReport = OnnxCheck.Run(bestLoraMerged!, bestLora!, testImages, testLabels, output);
bestLoraMerged!.Dispose();
Console.WriteLine(onnxReport);
Console.WriteLine($"wrote curves.csv, runs.csv, summary.md, accuracy-vs-samples, spectra.csv, delta-effective-rank, delta-singular-values, best-lora-merged.onnx, onnx.md to {output} " +
                  $"in {clock.Elapsed.TotalMinutes:F1} min");

Run Train(Method method, int seed, Module model)
{
    var loader = new DataLoader(train, batch_size: p.batch, shuffle: true, drop_last: true, seed: 1000 + (ulong)seed);
    var trainable = model.parameters().Where(t => t.requires_grad).ToList();
    using var optimizer = new AdamW(trainable, lr: method.LearningRate, weight_decay: 0.0);
    var curve = new List<(int step, double accuracy)>();
    var watch = new Stopwatch();
    for (int step = 1; step <= steps; step++)
    {
        watch.Start();
        using (NewDisposeScope())
        {
            model.train();
            Tensor[] batch = loader.Next();
            Tensor loss = nn.functional.cross_entropy(model.call(pretrained.Prepare(batch[0], p.size)), batch[1]);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        watch.Stop();
        progress.Step();
        if (step % evalEvery == 0 || step == steps) curve.Add((step, Accuracy(model)));
    }
    return new Run(method.Name, seed, trainable.Sum(t => t.numel()), curve, watch.Elapsed.TotalSeconds);
}

double Accuracy(Module model)
{
    model.eval();
    using var noGrad = no_grad();
    long correct = 0;
    for (long start = 0; start < testCount; start += 250)
    {
        using var scope = NewDisposeScope();
        long n = Math.Min(250, testCount - start);
        correct += (model.call(testImages.narrow(0, start, n)).argmax(1) == testLabels.narrow(0, start, n)).sum().item<long>();
    }
    return (double)correct / testCount;
}

/// <summary>One training run: its test-accuracy curve (step, accuracy), parameters trained and training wall time.</summary>
internal sealed record Run(string Method, int Seed, long Trained, IReadOnlyList<(int step, double accuracy)> Curve, double Seconds)
{
    public double Final => Curve[^1].accuracy;
}
