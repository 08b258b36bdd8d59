using LowRankBias.Overparam;

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
    public static void Run(Preset p, string outDir)
    {
        var rows = new CsvTable("depth", "rank", "seed", "best_lr", "relative_loss", "effective_rank_entropy");
        var best = new Dictionary<(int depth, int rank), List<double>>();
        foreach (int depth in p.Depths)
            foreach (int rank in p.Ranks)
                for (int seed = 0; seed < p.Seeds; seed++)
                {
                    using var task = new LowRankRegression(p.Dimension, p.Dimension, rank, seed: (ulong)(1000 * rank + seed));
                    using TensorDataset data = task.Sample(p.Samples, seed: (ulong)seed);
                    (double loss, double lr, double entropy) = p.LearningRates
                        .Select(eta => Train(p, depth, eta / Math.Sqrt(depth), data, seed))
                        .MinBy(r => double.IsFinite(r.loss) ? r.loss : double.MaxValue);
                    rows.Add(depth, rank, seed, lr.ToString("G4", CultureInfo.InvariantCulture), loss.ToString("E4", CultureInfo.InvariantCulture), CsvTable.Fixed(entropy, 4));
                    (best.TryGetValue((depth, rank), out var list) ? list : best[(depth, rank)] = []).Add(loss);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"least squares depth {depth,2} rank {rank,2} seed {seed}: loss {loss:E3} (lr {lr:G3}), ρ(W_e) {entropy:F3}"));
                }
        rows.Save(Path.Combine(outDir, "least_squares.csv"));

        var chart = new LineChart
        {
            Title = $"Least squares {p.Dimension}×{p.Dimension}, {(p.LeastSquaresRelu ? "ReLU" : "linear")} networks, {p.Samples} samples, {p.Steps} GD steps, {p.Seeds} seed{(p.Seeds > 1 ? "s" : "")}",
            XLabel = "rank of target W*",
            YLabel = "relative training loss",
            LogY = true,
        };
        var series = p.Depths.Select(d => new ChartSeries($"depth {d}",
            p.Ranks.Select(r => ((double)r, Math.Max(best[(d, r)].Average(), 1e-16))).ToList())).ToList();
        chart.Save(Path.Combine(outDir, "least_squares.svg"), series);
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

    // d bias-free Linear layers of one width with a ReLU between each two; He initialisation (std √(2/n)) keeps the
    // signal's scale through the ReLUs, and the last layer, without a ReLU after it, gets std √(1/n).
    private static Sequential ReluNetwork(int width, int depth)
    {
        var layers = new List<Module>();
        for (int i = 0; i < depth; i++)
        {
            var linear = new Linear(width, width, bias: false);
            using (no_grad()) nn.init.normal_(linear.weight, 0, Math.Sqrt((i < depth - 1 ? 2.0 : 1.0) / width));
            layers.Add(linear);
            if (i < depth - 1) layers.Add(new ReLU());
        }
        return new Sequential(layers);
    }
}
