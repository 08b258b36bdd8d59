using LowRankBias.Statistics;
using LowRankBias.Overparam;
using LowRankBias.Torch.Models;

namespace OverparamExperiments;

/// <summary>
/// Thesis Fig. 2.1: fit Y = X W*ᵀ (W* of rank r, unit singular values, 128 Gaussian samples) with a depth-d linear
/// network, built as Overparam.Expand of one bias-free Linear (so every depth starts with the same output variance),
/// or with <see cref="Preset.LeastSquaresRelu"/> a depth-d ReLU network of the same width (the thesis' setting).
/// Full-batch SGD with momentum 0.9, loss ½‖Ŷ − Y‖²/N, a ×0.1 learning-rate step at 75% of the budget (the thesis
/// steps at 18k of 24k epochs), learning rate η/√d picked per (d, r, seed) from a small grid (App. 7.5's heuristic).
/// Reported: the relative training residual ‖Ŷ − Y‖²/‖Y‖² at the end, and the effective rank (entropy) of W_e.
/// </summary>
internal static class LeastSquares
{
    private static readonly string[] Columns = ["activation", "width", "steps", "lr_grid", "depth", "rank", "seed", "best_lr", "relative_loss", "effective_rank_entropy"];

    public static void Run(Preset p, string outDir)
    {
        string activation = p.LeastSquaresRelu ? "relu" : "linear";
        string grid = string.Join(";", p.LearningRates.Select(r => r.ToString("G4", CultureInfo.InvariantCulture)));
        string[] setting = [activation, p.Dimension.ToString(CultureInfo.InvariantCulture), p.Steps.ToString(CultureInfo.InvariantCulture), grid];
        string path = Path.Combine(outDir, "least_squares.csv");
        Dictionary<(int, int, int), string[]> recorded = LoadRecorded(path, setting);
        if (recorded.Count > 0) Console.WriteLine($"resuming: {recorded.Count} runs already recorded in {path} are reused");

        // Recorded runs outside this invocation's depths, ranks and seeds are kept in the file as they were.
        var rows = new CsvTable(Columns);
        foreach (((int depth, int rank, int seed), string[] other) in recorded)
            if (!p.Depths.Contains(depth) || !p.Ranks.Contains(rank) || seed >= p.Seeds) rows.Add(other);
        var losses = new List<(int Depth, int Rank, int Seed, double Loss)>();
        var progress = new StepProgress("least squares", p.Depths.Length * p.Ranks.Length * p.Seeds);
        progress.Run(() =>
        {
            // Seeds outermost: a run stopped early has every (depth, rank) at fewer seeds, not some at none.
            for (int seed = 0; seed < p.Seeds; seed++)
                foreach (int depth in p.Depths)
                    foreach (int rank in p.Ranks)
                    {
                        if (!recorded.TryGetValue((depth, rank, seed), out string[]? row))
                        {
                            using var task = new LowRankRegression(p.Dimension, p.Dimension, rank, seed: (ulong)(1000 * rank + seed));
                            using TensorDataset data = task.Sample(p.Samples, seed: (ulong)seed);
                            (double loss, double lr, double entropy) = p.LearningRates
                                .Select(eta => Train(p, depth, eta / Math.Sqrt(depth), data, seed))
                                .MinBy(r => double.IsFinite(r.loss) ? r.loss : double.MaxValue);
                            row = [.. setting, .. new[] { depth, rank, seed }.Select(i => i.ToString(CultureInfo.InvariantCulture)),
                                lr.ToString("G4", CultureInfo.InvariantCulture), loss.ToString("E4", CultureInfo.InvariantCulture), CsvTable.Fixed(entropy, 4)];
                            progress.Note($"least squares depth {depth,2} rank {rank,2} seed {seed}: loss {row[8]} (lr {row[7]}), ρ(W_e) {row[9]}");
                        }
                        rows.Add(row);
                        // Written (atomically) after every (depth, rank, seed), so a stopped run keeps what it finished.
                        rows.Save(path);
                        losses.Add((depth, rank, seed, double.Parse(row[8], CultureInfo.InvariantCulture)));
                        progress.Step();
                    }
        });

        var chart = new LineChart
        {
            Title = $"Least squares {p.Dimension}×{p.Dimension}, {(p.LeastSquaresRelu ? "ReLU" : "linear")} networks, {p.Samples} samples, {p.Steps} GD steps",
            XLabel = "rank of target W*",
            YLabel = "log₁₀ relative training loss",
        };
        chart.Save(Path.Combine(outDir, "least_squares.svg"), [.. losses.GroupBy(l => l.Depth).Select(d => LogLossOverSeeds($"depth {d.Key}",
            [.. d.GroupBy(l => l.Seed).Select(s => s.Select(l => ((double)l.Rank, l.Loss)).ToArray())]))]);
    }

    /// <summary>
    /// One line of the figure: mean ± std over seeds of log₁₀ of the loss per target rank — losses span 10⁻¹⁵…1, so the
    /// spread is drawn where it is symmetric; floored at 10⁻¹⁶ (float32 resolves nothing below). A rank at which some
    /// seed diverged at every rate has no loss to average and is left out.
    /// </summary>
    private static ChartSeries LogLossOverSeeds(string label, IReadOnlyList<IReadOnlyList<(double Rank, double Loss)>> seeds) =>
        ChartSeries.MeanOverRuns(label, [.. seeds.Select(s => s.Where(p => double.IsFinite(p.Loss)).Select(p => (p.Rank, Math.Log10(Math.Max(p.Loss, 1e-16)))).ToArray())]);

    // The runs an earlier, stopped invocation recorded at this setting; runs of another setting in the file are refused
    // rather than overwritten.
    private static Dictionary<(int, int, int), string[]> LoadRecorded(string path, string[] setting)
    {
        var found = new Dictionary<(int, int, int), string[]>();
        if (!File.Exists(path)) return found;
        string[] lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != string.Join(",", Columns))
            throw new InvalidDataException($"{path}: not this sample's least-squares table (header '{lines.FirstOrDefault()}'); use another --out");
        foreach (string line in lines.Skip(1).Where(l => l.Length > 0))
        {
            string[] cells = line.Split(',');
            if (cells.Length != Columns.Length || !cells.Take(setting.Length).SequenceEqual(setting))
                throw new InvalidDataException($"{path}: holds runs of another setting ({string.Join(", ", cells.Take(setting.Length))}) than this one ({string.Join(", ", setting)}); use another --out");
            int I(int i) => int.Parse(cells[i], CultureInfo.InvariantCulture);
            found[(I(4), I(5), I(6))] = cells;
        }
        return found;
    }

    private static (double loss, double lr, double entropy) Train(Preset p, int depth, double lr, TensorDataset data, int seed)
    {
        manual_seed((ulong)(7919 * depth + seed));
        Tensor x = data.tensors[0], y = data.tensors[1];
        using Module model = p.LeastSquaresRelu ? ReluNetwork(p.Dimension, depth) : Overparam.Expand(new Linear(p.Dimension, p.Dimension, bias: false), new ExpansionOptions { Depth = depth });
        using var optimizer = new SGD(model.parameters(), lr: lr, momentum: 0.9);
        var schedule = new MultiStepLR(optimizer, [3L * p.Steps / 4]);
        for (int step = 0; step < p.Steps; step++)
        {
            using var scope = NewDisposeScope();
            Tensor loss = (model.call(x) - y).square().sum() / (2.0 * p.Samples);
            if (!double.IsFinite(loss.item<float>())) return (double.PositiveInfinity, lr, double.NaN);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            schedule.step();
        }
        using var final = NewDisposeScope();
        using var noGrad = no_grad();
        double relative = ((model.call(x) - y).square().sum() / y.square().sum()).item<float>();
        // A ReLU network has no end-to-end matrix W_e.
        double entropy = p.LeastSquaresRelu ? double.NaN : SpectralMetrics.Analyze(Overparam.EffectiveWeight(model), options: new SpectralOptions { FitPowerLaw = false }).SpectralEntropy;
        return (relative, lr, entropy);
    }

    // d bias-free Linear layers of one width with a ReLU between each two; He initialisation (std √(2/n), the thesis'
    // gain √2) keeps the signal's scale through the ReLUs, and the last layer, without a ReLU after it, gets std √(1/n).
    private static MLP ReluNetwork(int width, int depth)
    {
        var network = new MLP(MLP.Config.ReLUNetwork(depth, width) with { bias = false });
        using (no_grad())
            for (int i = 0; i < depth; i++)
                nn.init.normal_(((Linear)network.layers[i]).weight, 0, Math.Sqrt((i < depth - 1 ? 2.0 : 1.0) / width));
        return network;
    }
}
