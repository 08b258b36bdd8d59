using LowRankBias.Statistics;
using LowRankBias.Overparam;
using LowRankBias.Torch.IO;
using Spectre.Console;

namespace OverparamExperiments;

/// <summary>
/// Thesis Tables 2.1 and 2.3 on Fashion-MNIST: the appendix-7.5 CNN as is, with its FC layers, its convolutions or
/// both linearly over-parameterised by factor d ∈ {2, 4, 8}, and with each explicit regulariser of Table 2.3; several
/// seeds each. The thesis' SGD with momentum 0.9 and learning rate 0.02 (the <c>full</c> preset) leaves this plain CNN
/// at chance for the first hundreds of steps, so the two-epoch presets use AdamW (lr 10⁻³, no weight decay, which would
/// act as a regulariser of its own); the <c>converged</c> preset uses SGD with a learning-rate grid and a short linear warm-up. Either way the learning rate is stepped ×0.1 at 50% and 83% of training (the
/// thesis' 90 and 150 of 180 epochs), with random horizontal flips; the best test accuracy over the run is reported,
/// as in the thesis.
/// </summary>
internal static class CnnComparison
{
    internal sealed record Config(string Name, int Depth, ExpansionTargets Targets, Regularizer? Penalty, double Strength);

    // Regulariser strengths: the thesis gives none; these make each penalty's gradient comparable to the loss's at
    // initialisation (an untuned choice, stated in docs/results.md).
    private static readonly (Regularizer kind, double strength)[] Penalties =
    [
        (Regularizer.L1, 1e-5), (Regularizer.L2, 1e-3), (Regularizer.SquaredFrobenius, 5e-4),
        (Regularizer.NuclearNorm, 1e-4), (Regularizer.SpectralEntropy, 1e-3), (Regularizer.StableRank, 1e-3),
    ];

    /// <summary>One epoch: mean training loss and accuracy over its (augmented) batches, and test accuracy after it.</summary>
    internal sealed record EpochRecord(double TrainLoss, double TrainAccuracy, double TestAccuracy);

    /// <summary>One training run: best and final test accuracy, validation accuracy at the end (NaN without a
    /// validation set), the final model's Gram effective rank (thesis fig. 2.7, <see cref="GramDynamics.Spectrum"/> on the
    /// first <see cref="GramDynamics.Images"/> test images; NaN for runs recorded before it was), and every epoch's
    /// record (the last one's training loss and accuracy say how well it fit).</summary>
    internal sealed record Outcome(double Best, double Final, double Validation, double GramEffectiveRank, IReadOnlyList<EpochRecord> Epochs)
    {
        public double TrainLoss => Epochs[^1].TrainLoss;
        public double TrainAccuracy => Epochs[^1].TrainAccuracy;
    }

    public static void Run(Preset p, string outDir)
    {
        using TensorDataset trainAll = FashionMnist.Load(train: true), testAll = FashionMnist.Load(train: false);
        using TensorDataset train = trainAll.Take(p.CnnTrainImages), test = testAll.Take(p.CnnTestImages);
        var configs = new List<Config> { new("original", 1, ExpansionTargets.All, null, 0) };
        bool convolutions = p.CnnExpandConvolutions || (p.CnnConfigs?.Any(c => c.StartsWith("conv", StringComparison.Ordinal) || c.StartsWith("both", StringComparison.Ordinal)) ?? false);
        foreach (int d in p.CnnFactors)
        {
            configs.Add(new($"FC ×{d}", d, ExpansionTargets.Linear, null, 0));
            if (!convolutions) continue;
            configs.Add(new($"conv ×{d}", d, ExpansionTargets.Conv2d, null, 0));
            configs.Add(new($"both ×{d}", d, ExpansionTargets.All, null, 0));
        }
        if (p.CnnPenalties)
            configs.AddRange(Penalties.Select(r => new Config($"{r.kind} {r.strength:G2}", 1, ExpansionTargets.All, r.kind, r.strength)));
        if (p.CnnConfigs is { } only)
        {
            string[] unknown = only.Where(name => configs.All(c => c.Name != name)).ToArray();
            if (unknown.Length > 0)
                throw new ArgumentException($"--configs: no configuration {string.Join(", ", unknown.Select(u => $"'{u}'"))} in preset {p.Name}; it has {string.Join(", ", configs.Select(c => c.Name))}");
            configs.RemoveAll(c => !only.Contains(c.Name));
        }
        using TensorDataset? validation = configs.Any(c => p.CnnRatesFor(c.Name).Length > 1) ? LastImages(trainAll, p.CnnValidationImages) : null;
        Dictionary<(string, string, int), Recorded> recorded = LoadRecorded(p, outDir);

        // The files are rewritten after every run from the runs this invocation has reached, and every recorded run it
        // has not (yet) reached as it was: a stopped invocation loses nothing that was written before it.
        var rows = new List<object?[]>();
        var epochRows = new List<object?[]>();
        var reached = new HashSet<(string, string, int)>();
        void SaveAll()
        {
            var waiting = recorded.Where(r => !reached.Contains(r.Key)).Select(r => r.Value).ToArray();
            Save(outDir, [.. waiting.Select(r => (object?[])[.. r.Row, r.Chosen]), .. rows], [.. waiting.SelectMany(r => r.EpochRows), .. epochRows]);
        }
        var results = new List<(Config config, double lr, Outcome[] outcomes)>();
        long trials = configs.Sum(c => p.CnnRatesFor(c.Name).Length + p.CnnSeeds - 1L)
            - recorded.Keys.Count(k => configs.Any(c => c.Name == k.Item1 && p.CnnRatesFor(c.Name).Any(lr => Key(lr) == k.Item2)));
        var progress = new StepProgress("cnn", Math.Max(1, trials) * p.CnnEpochs);
        if (recorded.Count > 0) Console.WriteLine($"resuming: {recorded.Count} runs already recorded in {outDir} are reused");
        progress.Run(() =>
        {
            foreach (Config config in configs)
            {
                bool grid = p.CnnRatesFor(config.Name).Length > 1;
                Outcome Trial(double lr, int seed)
                {
                    bool chosenLater = grid && seed == 0;
                    reached.Add((config.Name, Key(lr), seed));
                    if (recorded.TryGetValue((config.Name, Key(lr), seed), out Recorded? done))
                    {
                        rows.Add([.. done.Row, chosenLater ? "" : "yes"]);
                        epochRows.AddRange(done.EpochRows);
                        return done.Outcome;
                    }
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    Outcome o = Train(p, config, lr, train, test, seed, validation, onEpoch: progress.Step);
                    rows.Add([config.Name, lr, seed, o.Best, o.Final, o.Validation, o.TrainLoss, o.TrainAccuracy, CsvTable.Fixed(clock.Elapsed.TotalSeconds, 0), o.GramEffectiveRank, chosenLater ? "" : "yes"]);
                    epochRows.AddRange(o.Epochs.Select((e, i) => new object?[] { config.Name, lr, seed, i + 1, e.TrainLoss, e.TrainAccuracy, e.TestAccuracy }));
                    // Written (atomically) after every run, so a long run that is stopped keeps what it finished.
                    SaveAll();
                    progress.Note(string.Create(CultureInfo.InvariantCulture,
                        $"cnn {config.Name,-22} lr {lr,-6:G3} seed {seed}: best test {100 * o.Best:F2}%, validation {100 * o.Validation:F2}%, last epoch train loss {o.TrainLoss:F4} accuracy {100 * o.TrainAccuracy:F2}% ({clock.Elapsed.TotalSeconds:F0} s)"));
                    return o;
                }
                // Seed 0 at every rate of the grid; the other seeds use the rate with the best validation accuracy.
                var first = p.CnnRatesFor(config.Name).Select(lr => (lr, outcome: Trial(lr, 0))).ToList();
                (double chosen, Outcome seed0) = grid ? first.MaxBy(t => t.outcome.Validation) : first[0];
                if (grid) MarkChosen(rows, config.Name, chosen);
                var outcomes = new Outcome[p.CnnSeeds];
                outcomes[0] = seed0;
                for (int seed = 1; seed < p.CnnSeeds; seed++) outcomes[seed] = Trial(chosen, seed);
                results.Add((config, chosen, outcomes));
            }
        });
        SaveAll();
        Summarise(results, Path.Combine(outDir, "cnn_fashion_mnist.md"));
        PlotCurves(p, results, outDir);
    }

    // Per-epoch curves of the reported runs (chosen rate), mean ± std over the seeds: whether each configuration converged.
    // Diverged runs (NaN loss) are left out of the means.
    private static void PlotCurves(Preset p, List<(Config config, double lr, Outcome[] outcomes)> results, string outDir)
    {
        ChartSeries[] Series(Func<EpochRecord, double> y) => [.. results.Select(r => ChartSeries.MeanOverRuns(
            string.Create(CultureInfo.InvariantCulture, $"{r.config.Name}, lr {r.lr:G3}"),
            [.. r.outcomes.Select(o => (IReadOnlyList<(double, double)>)o.Epochs.Select((e, i) => (i + 1.0, y(e))).ToArray())],
            [.. r.outcomes.Select(o => !double.IsFinite(o.TrainLoss))]))];
        string optimiser = p.CnnAdamW ? "AdamW" : "SGD";
        new LineChart { Title = $"CNN on Fashion-MNIST ({optimiser}): training loss per epoch", XLabel = "epoch", YLabel = "cross-entropy (augmented batches)", LogX = false, LogY = true }
            .Save(Path.Combine(outDir, "training-loss.svg"), Series(e => e.TrainLoss));
        new LineChart { Title = $"CNN on Fashion-MNIST ({optimiser}): test accuracy per epoch", XLabel = "epoch", YLabel = "test accuracy (%)", LogX = false }
            .Save(Path.Combine(outDir, "test-accuracy.svg"), Series(e => 100 * e.TestAccuracy));
    }

    private static string Key(double lr) => CsvTable.Cell(lr);

    private static readonly string[] RunColumns =
        ["config", "learning_rate", "seed", "best_test_accuracy", "final_test_accuracy", "validation_accuracy", "train_loss", "train_accuracy", "seconds", "gram_effective_rank", "chosen"];

    private static readonly string[] EpochColumns = ["config", "learning_rate", "seed", "epoch", "train_loss", "train_accuracy", "test_accuracy"];

    private static void Save(string outDir, List<object?[]> rows, List<object?[]> epochRows)
    {
        foreach ((string file, string[] columns, List<object?[]> cells) in new[] { ("cnn_fashion_mnist.csv", RunColumns, rows), ("cnn_fashion_mnist_epochs.csv", EpochColumns, epochRows) })
        {
            var table = new CsvTable(columns);
            foreach (object?[] row in cells) table.Add(row);
            table.Save(Path.Combine(outDir, file));
        }
    }

    /// <summary>A finished run read back from the CSV files: its cells but the "chosen" one, that cell, its epoch rows' cells (strings, written back
    /// unchanged: the configuration names hold no comma or quote), its outcome.</summary>
    private sealed record Recorded(string[] Row, string Chosen, IReadOnlyList<object?[]> EpochRows, Outcome Outcome);

    // The runs an earlier, stopped invocation recorded in outDir, so that a rerun (e.g. after the grid of one
    // configuration changed) trains only what is missing.
    private static Dictionary<(string, string, int), Recorded> LoadRecorded(Preset p, string outDir)
    {
        string main = Path.Combine(outDir, "cnn_fashion_mnist.csv"), perEpoch = Path.Combine(outDir, "cnn_fashion_mnist_epochs.csv");
        var found = new Dictionary<(string, string, int), Recorded>();
        if (!File.Exists(main) || !File.Exists(perEpoch)) return found;
        static (string, string, int) KeyOf(string[] cells) => (cells[0], cells[1], int.Parse(cells[2], CultureInfo.InvariantCulture));
        static double D(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);
        try
        {
            if (File.ReadLines(main).First() != string.Join(",", RunColumns))
                throw new FormatException($"header is not {string.Join(",", RunColumns)}");
            var epochs = File.ReadLines(perEpoch).Skip(1).Select(l => l.Split(',')).ToLookup(KeyOf);
            foreach (string line in File.ReadLines(main).Skip(1))
            {
                string[] cells = line.Split(',');
                var key = KeyOf(cells);
                var history = epochs[key].ToList();
                if (history.Count != p.CnnEpochs)
                    throw new InvalidDataException($"{perEpoch}: run {key} has {history.Count} epochs, preset {p.Name} trains {p.CnnEpochs}; use another --out");
                var outcome = new Outcome(D(cells[3]), D(cells[4]), D(cells[5]), cells[9].Length == 0 ? double.NaN : D(cells[9]),
                    [.. history.Select(r => new EpochRecord(D(r[4]), D(r[5]), D(r[6])))]);
                found[key] = new([.. cells.Take(10)], cells[10], [.. history.Select(r => (object?[])r)], outcome);
            }
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{outDir}: the recorded CNN runs (cnn_fashion_mnist*.csv) are not in this sample's format; use another --out", e);
        }
        return found;
    }

    private static TensorDataset LastImages(TensorDataset all, int count)
    {
        using var scope = NewDisposeScope();
        return new TensorDataset([.. all.tensors.Select(t => t.narrow(0, all.Count - count, count).clone())]);
    }

    // The seed-0 row of the chosen rate is one of the configuration's seeds.
    private static void MarkChosen(List<object?[]> rows, string config, double lr) =>
        rows.First(r => (string)r[0]! == config && CsvTable.Cell(r[1]) == Key(lr) && CsvTable.Cell(r[2]) == "0")[^1] = "yes";

    /// <summary>Trains one configuration at learning rate <paramref name="lr"/>; <paramref name="probe"/>, if given,
    /// sees the model at step 0 and every <paramref name="probeEvery"/> steps; <paramref name="onEpoch"/> is called
    /// after each epoch.</summary>
    internal static Outcome Train(Preset p, Config config, double lr, TensorDataset train, TensorDataset test, int seed,
        TensorDataset? validation = null, Action<Module, long>? probe = null, long probeEvery = 0, Action? onEpoch = null)
    {
        manual_seed((ulong)(100 + seed));
        using Module model = new ConvNet(ConvNet.Config.FashionMnist);
        if (config.Depth > 1) Overparam.Expand(model, new ExpansionOptions { Depth = config.Depth, Targets = config.Targets });
        var loader = new DataLoader(train, batch_size: 128, shuffle: true, seed: (ulong)seed);
        var flip = new RandomHorizontalFlip(seed: (ulong)seed);
        using Optimizer optimizer = p.CnnAdamW
            ? new AdamW(model.parameters(), lr: lr, weight_decay: 0)
            : new SGD(model.parameters(), lr: lr, momentum: 0.9);
        // A run that diverges is a result (expanded models are rate-sensitive): it goes on as PyTorch's would and is
        // recorded with its NaN loss, rather than ending the whole comparison.
        optimizer.error_if_nonfinite = false;
        long steps = p.CnnEpochs * loader.Count, warmup = p.CnnWarmupEpochs * loader.Count;
        var schedule = new LambdaLR(optimizer, step =>
            Math.Min(1.0, (step + 1.0) / Math.Max(1, warmup)) * Math.Pow(0.1, (step >= steps / 2 ? 1 : 0) + (step >= 5 * steps / 6 ? 1 : 0)));
        double best = 0;
        var epochs = new List<EpochRecord>();
        probe?.Invoke(model, 0);
        for (int epoch = 0; epoch < p.CnnEpochs; epoch++)
        {
            double lossSum = 0;
            long correct = 0, seen = 0;
            for (long i = 0; i < loader.Count; i++)
            {
                long step = epoch * loader.Count + i + 1;
                using var scope = NewDisposeScope();
                Tensor[] batch = loader.Next();
                Tensor logits = model.call(flip.Apply(batch[0]));
                Tensor loss = nn.functional.cross_entropy(logits, batch[1]);
                lossSum += loss.item<float>() * batch[1].size(0);
                correct += (logits.argmax(1) == batch[1]).sum().item<long>();
                seen += batch[1].size(0);
                if (config.Penalty is { } kind)
                    loss = loss + config.Strength * Regularizers.Compute(kind, Overparam.EffectiveWeights(model).Select(w => w.weight));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                schedule.step();
                if (probe is not null && step % probeEvery == 0) probe(model, step);
            }
            double accuracy = Accuracy(model, test);
            best = Math.Max(best, accuracy);
            epochs.Add(new(lossSum / seen, (double)correct / seen, accuracy));
            onEpoch?.Invoke();
        }
        double validationAccuracy = validation is null ? double.NaN : Accuracy(model, validation);
        double gramRank = double.NaN; // a diverged model's features are NaN: no spectrum
        if (double.IsFinite(epochs[^1].TrainLoss))
        {
            using TensorDataset probeImages = test.Take(Math.Min(GramDynamics.Images, test.Count));
            GramDynamics.Spectrum(model, probeImages.tensors[0], out gramRank);
        }
        return new(best, epochs[^1].TestAccuracy, validationAccuracy, gramRank, epochs);
    }

    private static double Accuracy(Module model, TensorDataset test)
    {
        model.eval();
        using var noGrad = no_grad();
        long correct = 0;
        foreach (Tensor[] batch in new DataLoader(test, batch_size: 1000))
        {
            using var scope = NewDisposeScope();
            correct += (model.call(batch[0]).argmax(1) == batch[1]).sum().item<long>();
        }
        model.train();
        return (double)correct / test.Count;
    }

    private static void Summarise(List<(Config config, double lr, Outcome[] outcomes)> results, string path)
    {
        static (double mean, double std) Stats(IEnumerable<double> values)
        {
            double[] a = [.. values.Select(v => 100 * v)];
            return (a.Average(), SeedSpread.Std(a));
        }
        double baseline = Stats(results[0].outcomes.Select(o => o.Best)).mean;
        var table = new Table().AddColumns("configuration", "learning rate", "best test accuracy (mean ± std)", "gain", "last-epoch train accuracy");
        var lines = new List<string> { "| configuration | learning rate | best test accuracy (%) | gain | last-epoch train accuracy (%) |", "|---|---:|---:|---:|---:|" };
        foreach ((Config config, double lr, Outcome[] outcomes) in results)
        {
            (double mean, double std) = Stats(outcomes.Select(o => o.Best));
            (double trainMean, double trainStd) = Stats(outcomes.Select(o => o.TrainAccuracy));
            string cell = string.Create(CultureInfo.InvariantCulture, $"{mean:F2} ± {std:F2}");
            string gain = string.Create(CultureInfo.InvariantCulture, $"{mean - baseline:+0.00;-0.00;0.00}");
            string rate = lr.ToString("G3", CultureInfo.InvariantCulture);
            string fit = string.Create(CultureInfo.InvariantCulture, $"{trainMean:F2} ± {trainStd:F2}");
            table.AddRow(config.Name, rate, cell, gain, fit);
            lines.Add($"| {config.Name} | {rate} | {cell} | {gain} | {fit} |");
        }
        AnsiConsole.Write(table);
        OutputFile.WriteAllLines(path, lines);
    }
}
