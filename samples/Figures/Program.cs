// Re-renders the committed figures of docs/results from the data the samples recorded (CSV, JSONL), without training:
// for when the figures' style changes, or a figure must be checked against its numbers. Titles and axes are those the
// samples draw; the settings a title names (modulus, weight decay, sizes) are the recorded runs' (docs/results.md).

using LowRankBias.Statistics;

var cli = new ProgramCommand("figures", "Re-renders the committed figures (PNG and SVG) of docs/results from their recorded CSV and JSONL files.");
var resultsOption = cli.Add("--results", Path.Combine("docs", "results"), "the results folder to re-render in place");
var parsed = cli.Parse(args);
string results = parsed.GetValue(resultsOption)!;
if (!Directory.Exists(results)) throw new DirectoryNotFoundException($"--results {results}: no such folder");
string R(params string[] parts) => Path.Combine([results, .. parts]);
// A run repeated with --seed S > 0 keeps seed S's files in <run>/seedS/; seed 0's are in <run>/ itself.
string[] SeedFolders(string run) => [R(run), .. Directory.GetDirectories(R(run), "seed*").Order(StringComparer.Ordinal)];
var written = new List<string>();
void Line(string path, LineChart chart, IReadOnlyList<ChartSeries> series) => written.AddRange(chart.Save(path, series));

// Fashion-MNIST: the Trainer's metrics.csv per model.
foreach (string model in new[] { "cnn", "vit-tiny" })
{
    Csv m = Csv.Read(R("fashion-mnist", $"{model}-metrics.csv"));
    double perEpoch = m.Rows.Where(r => r["split"] == "test").Select(r => D(r["step"])).Min();
    ChartSeries S(string split, string column, double scale) =>
        new(split, WithoutDoubleEvaluation(m.Rows.Where(r => r["split"] == split && r[column].Length > 0).ToList()) // the last window of a few steps is noise
            .Select(r => (D(r["step"]) / perEpoch, scale * D(r[column]))).ToArray());
    Line(R("fashion-mnist", $"{model}-loss.svg"), new LineChart { Title = $"{model} on Fashion-MNIST: cross-entropy", XLabel = "epoch", YLabel = "loss", LogY = true },
        [S("train", "loss", 1), S("test", "loss", 1)]);
    Line(R("fashion-mnist", $"{model}-accuracy.svg"), new LineChart { Title = $"{model} on Fashion-MNIST: accuracy", XLabel = "epoch", YLabel = "accuracy (%)" },
        [S("train", "accuracy", 100), S("test", "accuracy", 100)]);
}

// LTE least squares (LeastSquaresMerge): one column per merge period, rows per seed; mean ± std over the seeds.
{
    Csv c = Csv.Read(R("lte-least-squares.csv"));
    var bySeed = c.Rows.GroupBy(r => r["seed"]).ToArray();
    Line(R("lte-least-squares.svg"), new LineChart { Title = "Least squares 32×32, full-rank target, LoRA rank 4", XLabel = "step", YLabel = "loss / initial loss", LogY = true },
        [.. c.Header.Skip(2).Select(h => ChartSeries.MeanOverRuns(h.Replace('_', ' '),
            [.. bySeed.Select(seed => (IReadOnlyList<(double, double)>)[.. seed.Select(r => (D(r["step"]), D(r[h])))])]))]);
}

// ViT pre-training (VitPretraining's Report draws from the same curves.csv). A run repeated with --seed S > 0 keeps
// that seed's curves.csv in <run>/seedS/: then every method is drawn as mean ± std over the seeds.
foreach (string run in new[] { "main", "vit-pretraining", "vit-quick", "vit-long", "vit-nf4", "lte-grid" })
{
    string[] seedFolders = SeedFolders(run);
    var methods = seedFolders.SelectMany(folder => Csv.Read(Path.Combine(folder, "curves.csv")).Rows.GroupBy(r => r["method"])
            .Select(g => (method: g.Key, rows: WithoutDoubleEvaluation(g.ToList()))))
        .GroupBy(m => m.method).Select(g => (g.Key, seeds: g.Select(m => m.rows).ToArray())).ToArray();
    // Methods whose rows all lack the column (keep) are left out.
    ChartSeries[] By(string x, Func<Row, double> y, Func<Row, bool>? keep = null) => methods
        .Select(m => (m.Key, runs: m.seeds.Select(rows => (IReadOnlyList<(double, double)>)rows.Where(keep ?? (_ => true)).Select(r => (D(r[x]), y(r))).ToArray()).ToArray()))
        .Where(m => m.runs.All(r => r.Count > 0))
        .Select(m => OverRuns(m.runs.Length == 1 && seedFolders.Length > 1 ? $"{m.Key} (one seed)" : m.Key, OnOneGrid(m.runs))).ToArray();
    // Runs recorded before 3026c78 evaluated a step earlier (vit-long seed 0: LTE at steps 702 and 936 where later seeds
    // evaluate at 703 and 937 of 937); an evaluation within 1 % of the last seed's with the most evaluations is drawn at its x, so the mean
    // keeps every point the seeds share rather than only the few where they coincide exactly.
    static IReadOnlyList<(double, double)>[] OnOneGrid(IReadOnlyList<(double X, double Y)>[] runs)
    {
        int most = runs.Max(r => r.Count);
        double[] grid = [.. runs.Last(r => r.Count == most).Select(p => p.X)];
        (double, double) Snap((double X, double Y) p) => (grid.Where(x => Math.Abs(x - p.X) <= 0.01 * x).DefaultIfEmpty(p.X).MinBy(x => Math.Abs(x - p.X)), p.Y);
        return [.. runs.Select(r => (IReadOnlyList<(double, double)>)[.. r.Select(Snap)])];
    }
    const string Title = "ViT on fashion-mnist";
    // One seed's differences of 1–3 points at 30–40 % (vit-nf4) would fill a fitted axis and look like effects; with
    // several seeds the bands show the noise.
    (double, double)? accuracyRange = run == "vit-nf4" && seedFolders.Length == 1 ? (0, 100) : null;
    string seeds = run == "vit-nf4" && seedFolders.Length == 1 ? " (one seed each)" : "";
    Line(R(run, "accuracy-vs-samples.svg"), new LineChart { Title = $"{Title}: test accuracy{seeds}", XLabel = "cumulative training samples", YLabel = "test accuracy (%)", YRange = accuracyRange },
        [.. By("samples", r => 100 * D(r["test_accuracy"])), .. GridCells(run, perDevice: false)]);
    // Per device only where some method or grid cell splits its samples over devices (LTE); else it repeats the plot above.
    ChartSeries[] cellsPerDevice = GridCells(run, perDevice: true);
    if (cellsPerDevice.Length > 0 || methods.Any(m => m.seeds.Any(rows => rows.Any(r => r["samples"] != r["samples_per_device"]))))
        Line(R(run, "accuracy-vs-samples-per-device.svg"), new LineChart { Title = $"{Title}: test accuracy{seeds}", XLabel = "training samples per device", YLabel = "test accuracy (%)", YRange = accuracyRange },
            [.. By("samples_per_device", r => 100 * D(r["test_accuracy"])), .. cellsPerDevice]);
    Line(R(run, "train-loss.svg"), new LineChart { Title = $"{Title}: training loss", XLabel = "cumulative training samples", YLabel = "cross-entropy", LogY = true },
        By("samples", r => D(r["train_loss"])));
    ChartSeries[] similarity = By("samples", r => D(r["head_cosine_similarity"]), r => r["head_cosine_similarity"].Length > 0);
    if (similarity.Length > 0)
        Line(R(run, "head-similarity.svg"), new LineChart { Title = $"{Title}: LTE heads' mean pairwise cosine similarity of BₙAₙ", XLabel = "cumulative training samples", YLabel = "cosine similarity" }, similarity);
    // --spectra runs: the monitor's figures per method.
    foreach (var m in methods.Where(m => File.Exists(R(run, m.Key, "spectral.jsonl"))))
        written.AddRange(SpectralPlots.WriteAll(SpectralMonitor.Read(R(run, m.Key, "spectral.jsonl")), R(run, m.Key)));
}

// The LTE cells of a --grid run, one marker series per rank at the cells' final cumulative samples (or samples per
// head), mean ± std over the seed folders: grid.csv holds only their final accuracy, and run.log's final line of each
// cell, in grid.csv's order, its samples.
ChartSeries[] GridCells(string run, bool perDevice)
{
    if (run != "lte-grid") return [];
    var cells = SeedFolders(run).SelectMany(folder =>
    {
        var rows = Csv.Read(Path.Combine(folder, "grid.csv")).Rows;
        var finals = File.ReadLines(Path.Combine(folder, "run.log")).Where(l => l.TrimStart().StartsWith("lte ", StringComparison.Ordinal))
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"samples\s+([\d,]+).*test acc ([\d.]+)%"))
            .Select(m => (samples: D(m.Groups[1].Value.Replace(",", "")), accuracy: D(m.Groups[2].Value))).ToArray();
        if (finals.Length != rows.Count || rows.Zip(finals).Any(c => Math.Abs(100 * D(c.First["test_accuracy"]) - c.Second.accuracy) > 0.006))
            throw new InvalidDataException($"{Path.Combine(folder, "run.log")}: its {finals.Length} LTE results do not match the {rows.Count} cells of grid.csv in order");
        return rows.Select((r, i) => (r, finals[i].samples));
    }).ToArray();
    return cells.GroupBy(c => c.r["rank"]).Select(g =>
    {
        var points = g.GroupBy(c => (c.r["heads"], c.r["merge_every"], c.samples)).Select(cell => (
            x: perDevice ? cell.Key.samples / D(cell.Key.Item1) : cell.Key.samples,
            accuracies: cell.Select(c => 100 * D(c.r["test_accuracy"])).ToArray())).ToArray();
        int seeds = points.Min(p => p.accuracies.Length);
        return new ChartSeries(
            $"LTE rank {g.Key}, final (N ∈ {{{string.Join(", ", g.Select(c => c.r["heads"]).Distinct())}}}, T ∈ {{{string.Join(", ", g.Select(c => c.r["merge_every"]).Distinct())}}}){(seeds > 1 ? $", mean ± std, {seeds} seeds" : "")}",
            points.Select(p => (p.x, p.accuracies.Average())).ToArray()) { MarkersOnly = true, Spread = seeds > 1 ? points.Select(p => SeedSpread.Std(p.accuracies)).ToArray() : null };
    }).ToArray();
}

// LTE beyond the ViT (LteArchitectures): eval loss per task.
{
    Csv c = Csv.Read(R("lte-architectures", "curves.csv"));
    foreach (var task in c.Rows.GroupBy(r => r["task"]))
    {
        string loss = task.Key == "gpt" ? "validation cross-entropy per character" : "test cross-entropy";
        Line(R("lte-architectures", $"{task.Key}.svg"), new LineChart { Title = $"{task.Key}: {loss}", XLabel = "cumulative training samples", YLabel = loss },
            task.GroupBy(r => r["method"]).Select(g => new ChartSeries(g.Key, g.Select(r => (D(r["samples"]), D(r["eval_loss"]))).ToArray())).ToArray());
    }
}

// Model merging (weight decay 1e-4, the paper's and the quick preset's): curves averaged over the draws; network A is the same in both settings.
{
    Csv c = Csv.Read(R("model-merging", "merging.csv"));
    const double Decay = 1e-4;
    int draws = c.Rows.Select(r => r["draw"]).Distinct().Count();
    var chosen = c.Rows.Where(r => D(r["weight_decay"]) == Decay).GroupBy(r => r["setting"]).ToArray();
    // Mean ± std over the draws (each draw one run).
    ChartSeries S(string label, IEnumerable<Row> rows, string column) =>
        ChartSeries.MeanOverRuns(label, rows.GroupBy(r => r["draw"]).Select(d => (IReadOnlyList<(double, double)>)d.Select(r => (D(r["step"]), D(r[column]))).ToArray()).ToArray());
    string drawn = $"mean ± std over {draws} draw{(draws > 1 ? "s" : "")}";
    Line(R("model-merging", "merging-loss.svg"), new LineChart { Title = $"Training loss, weight decay {Decay:G2}, {drawn}", XLabel = "gradient-descent step", YLabel = "logistic loss", LogY = true },
        [S("A on its task", chosen[0], "loss_a"), .. chosen.SelectMany(g => new[] { S($"{g.Key}: merged on A's task", g, "merged_loss_a"), S($"{g.Key}: merged on B's task", g, "merged_loss_b") })]);
    Line(R("model-merging", "stable-rank.svg"), new LineChart { Title = $"Mean ‖W‖F/‖W‖₂ (√ stable rank) of the weight matrices, weight decay {Decay:G2}, {drawn}", XLabel = "gradient-descent step", YLabel = "‖W‖F/‖W‖₂", LogY = false },
        [S("‖W‖F/‖W‖₂: A", chosen[0], "stable_rank_sqrt_a"), .. chosen.Select(g => S($"‖W‖F/‖W‖₂: merged ({g.Key})", g, "stable_rank_sqrt_merged"))]);
    double[] decays = c.Rows.Select(r => D(r["weight_decay"])).Distinct().Order().ToArray();
    double Position(double d) => d > 0 ? Math.Log10(d) : Math.Log10(decays.Where(x => x > 0).Min()) - 1;
    Line(R("model-merging", "weight-decay-sweep.svg"), new LineChart
        {
            Title = $"Merged network after training vs weight decay (mean loss on both tasks, {drawn})", XLabel = "weight decay λ", YLabel = "logistic loss", LogY = true, LogX = false,
            XTicks = decays.Select(d => (Position(d), d > 0 ? d.ToString("0e0", CultureInfo.InvariantCulture) : "0")).ToArray(),
        },
        c.Rows.GroupBy(r => r["setting"]).Select(g => ChartSeries.MeanOverRuns($"merged, {g.Key}", g.GroupBy(r => r["draw"]).Select(draw => (IReadOnlyList<(double, double)>)draw
            .GroupBy(r => D(r["weight_decay"])).Select(d => d.MaxBy(r => D(r["step"]))!)
            .Select(r => (Position(D(r["weight_decay"])), (D(r["merged_loss_a"]) + D(r["merged_loss_b"])) / 2)).ToArray()).ToArray())).ToArray());
}

// Grokking: errors and the attention's effective rank per run, and the monitor's figures per run.
foreach ((string run, int modulus) in new[] { ("grokking", 59), ("grokking-p97", 97) })
{
    Csv c = Csv.Read(R(run, "grokking.csv"));
    string[] names = ["30% data, no weight decay", "30% data, weight decay 1", "90% data, no weight decay"];
    string Name(string slug) => names[Array.IndexOf(["data30-wd0", "data30-wd1", "data90-wd0"], slug)];
    var runs = c.Rows.GroupBy(r => r["run"]).ToArray();
    Line(R(run, "error.svg"), new LineChart { Title = $"Addition mod {modulus}: error", XLabel = "step", YLabel = "error" },
        runs.SelectMany(g => new[] { new ChartSeries($"{Name(g.Key)}: train", g.Select(r => (D(r["step"]), D(r["train_error"]))).ToArray()),
            new ChartSeries($"{Name(g.Key)}: test", g.Select(r => (D(r["step"]), D(r["test_error"]))).ToArray()) }).ToArray());
    Line(R(run, "effective-rank.svg"), new LineChart { Title = "Effective rank exp(H) of blocks.0.attn.q", XLabel = "step", YLabel = "effective rank" },
        runs.Select(g => new ChartSeries(Name(g.Key), g.Select(r => (D(r["step"]), D(r["effective_rank_attention"]))).ToArray())).ToArray());
    foreach (var g in runs)
    {
        var records = SpectralMonitor.Read(R(run, g.Key, "spectral.jsonl"));
        written.AddRange(SpectralPlots.WriteAll(records, R(run, g.Key), "blocks.0.attn.q"));
        written.AddRange(SpectralPlots.AlignmentDiagonal(records, "embed → blocks.0.attn.q", R(run, g.Key, "alignment-diagonal.svg")));
    }
}

// Grokking in Nanda et al.'s setting: one CSV per run and seed (wd1-seed0.csv, …), seed 0's monitor records.
{
    var runs = Directory.GetFiles(R("grokking-nanda"), "wd*-seed*.csv").Order(StringComparer.Ordinal)
        .Select(f => (name: Path.GetFileNameWithoutExtension(f).Replace("wd", "weight decay ").Replace("-seed", ", seed "), rows: Csv.Read(f).Rows)).ToArray();
    const string Task = "Addition mod 113, 30% of pairs";
    // Test accuracy per seed: the seeds grok thousands of steps apart, and a mean would draw a gradual rise no seed has.
    Line(R("grokking-nanda", "accuracy.svg"), new LineChart
        {
            Title = $"{Task}: test accuracy of each seed (train accuracy 100% from step ≈ 200)", XLabel = "step", YLabel = "test accuracy (%)", LogY = false, YRange = (0, 100),
        },
        runs.Select(r => new ChartSeries(r.name, r.rows.Select(x => (D(x["step"]), 100 * D(x["test_accuracy"]))).ToArray())).ToArray());
    // Ranks: mean ± std over the seeds of each weight decay, up to the last step every seed reached (runs stop 1,000 steps after 99 %).
    ChartSeries[] G(string column) => runs.GroupBy(r => r.name[..r.name.IndexOf(',')]).Select(g => ChartSeries.MeanOverRuns(g.Key,
        g.Select(r => (IReadOnlyList<(double, double)>)r.rows.Select(x => (D(x["step"]), D(x[column]))).ToArray()).ToArray())).ToArray();
    Line(R("grokking-nanda", "effective-rank.svg"), new LineChart { Title = $"{Task}: effective rank exp(H) of blocks.0.attn.q", XLabel = "step", YLabel = "effective rank" },
        G("effective_rank_attention"));
    Line(R("grokking-nanda", "mean-effective-rank.svg"), new LineChart { Title = $"{Task}: mean exp(H)/R of all weight matrices", XLabel = "step", YLabel = "exp(H)/R" },
        G("mean_normalized_effective_rank"));
    Line(R("grokking-nanda", "embed-attention-alignment.svg"), new LineChart { Title = $"{Task}: alignment score of embed → blocks.0.attn.q", XLabel = "step", YLabel = "alignment score" },
        G("alignment_embed_attention"));
    // Every consecutive pair with weight decay 1 (pair-alignment.csv: the runs' monitor records and test accuracy), against
    // the steps from each seed's own 50 % crossing, so that a change at grokking lines up across seeds that grok far apart.
    Csv pairs = Csv.Read(R("grokking-nanda", "pair-alignment.csv"));
    var withDecay = pairs.Rows.Where(r => r["weight_decay"] == "1").GroupBy(r => r["seed"]).ToArray();
    var crossing = withDecay.ToDictionary(seed => seed.Key, seed => D(seed.First(r => D(r["test_accuracy"]) >= 0.5)["step"]));
    Line(R("grokking-nanda", "pair-alignment.svg"), new LineChart
        {
            Title = $"{Task}, weight decay 1: alignment score of consecutive matrices", XLabel = "steps from the seed's 50% test-accuracy crossing", YLabel = "alignment score",
        },
        [.. pairs.Header.Where(h => h.Contains("->", StringComparison.Ordinal)).Select(pair => OverRuns(pair.Replace("->", " → ", StringComparison.Ordinal),
            [.. withDecay.Select(seed => (IReadOnlyList<(double, double)>)seed.Select(r => (D(r["step"]) - crossing[seed.Key], D(r[pair]))).ToArray())]))]);
    var records = SpectralMonitor.Read(R("grokking-nanda", "wd1-seed0", "spectral.jsonl"));
    written.AddRange(SpectralPlots.WriteAll(records, R("grokking-nanda", "wd1-seed0"), "blocks.0.attn.q"));
    written.AddRange(SpectralPlots.AlignmentDiagonal(records, "embed → blocks.0.attn.q", R("grokking-nanda", "wd1-seed0", "alignment-diagonal.svg")));
}

// Spectral dynamics: mean effective rank, SVD pruning, the monitor's figures per run. Seed 0 in spectral-dynamics/,
// seed S > 0 (SpectralDynamics --seed S) in spectral-dynamics/seedS/: curves are mean ± std over the seeds that ran.
{
    string[] seedFolders = SeedFolders("spectral-dynamics");
    var dynamics = seedFolders.Select(f => Csv.Read(Path.Combine(f, "spectral-dynamics.csv")).Rows).ToArray();
    string Name(string slug) => slug == "random-labels" ? "random labels (seed 0, an earlier run)" : $"weight decay {D(slug[2..]):G2}";
    Line(R("spectral-dynamics", "effective-rank.svg"), new LineChart { Title = "Mean normalised effective rank exp(H)/R of the 4 weight matrices", XLabel = "step", YLabel = "exp(H)/R" },
        dynamics.SelectMany(rows => rows.GroupBy(r => r["run"])).GroupBy(g => g.Key).Select(g => OverRuns(Name(g.Key),
            [.. g.Select(run => (IReadOnlyList<(double, double)>)run.Select(r => (D(r["step"]), D(r["mean_normalized_effective_rank"]))).ToArray())])).ToArray());
    // SVD pruning with the classifier left alone, as the paper prunes: seed 0's dynamics run predates that, so its
    // pruning comes from the re-run pruning-wd0.csv; later seeds' from their wd0 rows.
    var pruned = seedFolders.Select((f, i) => File.Exists(Path.Combine(f, "pruning-wd0.csv")) ? Csv.Read(Path.Combine(f, "pruning-wd0.csv")).Rows
        : dynamics[i].Where(r => r["run"] == "wd0").ToList()).ToArray();
    ChartSeries P(string label, string column) => OverRuns(label, [.. pruned.Select(rows => (IReadOnlyList<(double, double)>)rows.Select(r => (D(r["step"]), 100 * D(r[column]))).ToArray())]);
    Line(R("spectral-dynamics", "pruning.svg"), new LineChart { Title = "Test accuracy with half of every hidden matrix's spectrum removed (classifier kept; no weight decay)", XLabel = "step", YLabel = "test accuracy (%)" },
        [P("full model", "test_accuracy"), P("bottom half of every spectrum removed", "test_accuracy_bottom_half_removed"), P("top half of every spectrum removed", "test_accuracy_top_half_removed")]);
    foreach (var g in dynamics[0].GroupBy(r => r["run"])) written.AddRange(SpectralPlots.WriteAll(SpectralMonitor.Read(R("spectral-dynamics", g.Key, "spectral.jsonl")), R("spectral-dynamics", g.Key), "layers.1"));

    // Memorisation (true vs random labels until 100 % train accuracy), over the seeds that ran it.
    var memorised = seedFolders.Where(f => File.Exists(Path.Combine(f, "memorisation.csv"))).SelectMany(f => Csv.Read(Path.Combine(f, "memorisation.csv")).Rows.GroupBy(r => r["labels"]))
        .GroupBy(g => g.Key).ToArray();
    int memorisedSeeds = memorised.Min(g => g.Count());
    ChartSeries[] M(string column, double scale) => memorised.Select(g => OverRuns(g.Key, [.. g.Select(run => (IReadOnlyList<(double, double)>)run.Select(r => (D(r["step"]), scale * D(r[column]))).ToArray())])).ToArray();
    // One seed: on the score's whole range, since the two runs end 0.03 apart; several: the bands show the noise.
    Line(R("spectral-dynamics", "memorisation-rank.svg"), new LineChart
        {
            Title = $"Mean exp(H)/R while memorising 2,000 images (to 100% train accuracy{(memorisedSeeds == 1 ? ", one seed" : $", {memorisedSeeds} seeds, up to the first to finish")})",
            XLabel = "step", YLabel = "exp(H)/R", YRange = memorisedSeeds == 1 ? (0, 1) : null,
        },
        M("mean_normalized_effective_rank", 1));
    Line(R("spectral-dynamics", "memorisation-accuracy.svg"), new LineChart { Title = "Training accuracy on 2,000 images", XLabel = "step", YLabel = "train accuracy (%)" },
        M("train_accuracy", 100));
}

// Over-parameterisation (OverparamExperiments): least squares, random-network rank densities, Gram spectra.
{
    // Figure 2.1, linear (quick) and at the thesis' setting (ReLU): log₁₀ of the loss, mean ± std over seeds, as the sample draws it.
    foreach (string run in new[] { "overparam", "overparam-relu" })
    {
        Csv c = Csv.Read(R(run, "least_squares.csv"));
        Row first = c.Rows[0];
        Line(R(run, "least_squares.svg"), new LineChart
        {
            Title = $"Least squares {first["width"]}×{first["width"]}, {(first["activation"] == "relu" ? "ReLU" : "linear")} networks, 128 samples, {first["steps"]} GD steps",
            XLabel = "rank of target W*", YLabel = "log₁₀ relative training loss",
        }, c.Rows.GroupBy(r => r["depth"]).Select(d => ChartSeries.MeanOverRuns($"depth {d.Key}", [.. d.GroupBy(r => r["seed"]).Select(s =>
            s.Where(r => double.IsFinite(D(r["relative_loss"]))).Select(r => (D(r["rank"]), Math.Log10(Math.Max(D(r["relative_loss"]), 1e-16)))).ToArray())])).ToArray());
    }

    Csv s = Csv.Read(R("overparam", "random_rank_samples.csv"));
    foreach (string activation in new[] { "linear", "relu" })
    {
        var rows = s.Rows.Where(r => r["activation"] == activation).ToArray();
        double lo = rows.Min(r => D(r["rho"])), hi = rows.Max(r => D(r["rho"])); // each its own range: the bins resolve it
        var byDepth = rows.GroupBy(r => int.Parse(r["depth"], CultureInfo.InvariantCulture)).OrderBy(g => g.Key).ToArray();
        Line(R("overparam", $"random_rank_{activation}.svg"), new LineChart
        {
            Title = $"{(activation == "relu" ? "ReLU" : "Linear")} networks: ρ of the Gram matrix ({byDepth[0].Count()} draws, width 32, 256 inputs)",
            XLabel = "effective rank ρ (entropy, nats)", YLabel = "density", LogY = false,
        }, byDepth.Select(g => new ChartSeries($"depth {g.Key}", Density(g.Select(r => D(r["rho"])).ToArray(), lo, hi))).ToArray());
    }

    Csv gram = Csv.Read(R("overparam", "gram_spectrum.csv"));
    foreach (var model in gram.Rows.GroupBy(r => r["model"]))
        Line(R("overparam", $"gram_spectrum_{(model.Key == "original" ? "original" : "overparam")}.svg"), new LineChart
        {
            Title = $"Gram matrix of the penultimate features, {model.Key}", XLabel = "index i", YLabel = "σᵢ / σ₁", LogY = true,
        }, model.GroupBy(r => long.Parse(r["step"], CultureInfo.InvariantCulture)).Select(g => new ChartSeries($"step {g.Key:N0}",
            g.Select(r => (D(r["index"]), D(r["normalized_singular_value"]))).ToArray())).ToArray());
}

// LTE Table-1 grid at a converging budget (VitPretraining --preset grid; seed 0 in lte-grid/, seed S > 0 in
// lte-grid/seedS/): final test accuracy by heads, mean ± std over the seeds, one line per rank and merge period, beside
// full rank's final accuracy.
{
    string[] seeds = SeedFolders("lte-grid");
    var cells = seeds.SelectMany((folder, seed) => Csv.Read(Path.Combine(folder, "grid.csv")).Rows.Select(r => (seed, r))).ToArray();
    double[] full = seeds.Select(f => 100 * D(Csv.Read(Path.Combine(f, "curves.csv")).Rows.Last(r => r["method"] == "full")["test_accuracy"])).ToArray();
    double[] heads = cells.Select(c => D(c.r["heads"])).Distinct().Order().ToArray();
    Line(R("lte-grid", "grid.svg"), new LineChart
        {
            Title = "LTE grid: final test accuracy after 150,000 samples (ViT, 5,000 Fashion-MNIST images)", XLabel = "LTE heads N", YLabel = "test accuracy (%)",
            LogX = true, XTicks = heads.Select(h => (h, $"{h}")).ToArray(),
        },
        [.. cells.GroupBy(c => (rank: c.r["rank"], t: c.r["merge_every"])).Select(g => ChartSeries.MeanOverRuns($"rank {g.Key.rank}, T = {g.Key.t}",
            g.GroupBy(c => c.seed).Select(run => (IReadOnlyList<(double, double)>)run.Select(c => (D(c.r["heads"]), 100 * D(c.r["test_accuracy"]))).ToArray()).ToArray())),
         new ChartSeries($"full rank, 75,000 samples (mean ± std, {full.Length} runs)", [(heads[0], full.Average()), (heads[^1], full.Average())])
            { Spread = [SeedSpread.Std(full), SeedSpread.Std(full)] }]);
}

// Over-parameterized CNN with SGD and a learning-rate grid (OverparamExperiments cnn --preset converged, at 15 and
// then 50 epochs): seed 0's best test accuracy over the grid, per configuration.
foreach ((string run, int epochs) in new[] { ("overparam-sgd-15-epochs", 15), ("overparam-converged", 50) })
{
    var rows = Csv.Read(R(run, "cnn_fashion_mnist.csv")).Rows.Where(r => r["seed"] == "0").ToArray();
    // A run whose training loss ended NaN diverged: marked at its (chance) accuracy, not joined to the others by a line.
    static bool Diverged(Row r) => !double.IsFinite(D(r["train_loss"]));
    var diverged = rows.Where(Diverged).ToArray();
    Line(R(run, "learning-rate.svg"), new LineChart
        {
            Title = $"CNN on Fashion-MNIST, SGD {epochs} epochs: best test accuracy of seed 0", XLabel = "learning rate", YLabel = "best test accuracy (%)", LogX = true,
        },
        [.. rows.Where(r => !Diverged(r)).GroupBy(r => r["config"]).Select(g => new ChartSeries(g.Key, g.Select(r => (D(r["learning_rate"]), 100 * D(r["best_test_accuracy"]))).ToArray())),
         .. diverged.Length > 0
            ? [new ChartSeries($"diverged (NaN loss): {string.Join(", ", diverged.Select(r => $"{r["config"]} at {r["learning_rate"]}"))}",
                diverged.Select(r => (D(r["learning_rate"]), 100 * D(r["best_test_accuracy"]))).ToArray()) { MarkersOnly = true }]
            : Array.Empty<ChartSeries>()]);
    // Per epoch, the reported runs (the chosen rate, every seed): mean ± std over the seeds per configuration.
    var chosen = Csv.Read(R(run, "cnn_fashion_mnist.csv")).Rows.Where(r => r["chosen"] == "yes").Select(r => (r["config"], r["learning_rate"], r["seed"])).ToHashSet();
    string epochsCsv = R(run, "cnn_fashion_mnist_epochs.csv");
    if (!File.Exists(epochsCsv)) continue;
    var perEpoch = Csv.Read(epochsCsv).Rows.Where(r => chosen.Contains((r["config"], r["learning_rate"], r["seed"]))).GroupBy(r => (r["config"], r["learning_rate"])).ToArray();
    // A run with a NaN loss in some epoch diverged: left out of the mean.
    ChartSeries[] E(Func<Row, double> y) => perEpoch.Select(g =>
    {
        var seeds = g.GroupBy(r => r["seed"]).ToArray();
        return ChartSeries.MeanOverRuns($"{g.Key.Item1}, lr {g.Key.Item2}",
            [.. seeds.Select(seed => (IReadOnlyList<(double, double)>)seed.Select(r => (D(r["epoch"]), y(r))).ToArray())],
            [.. seeds.Select(seed => seed.Any(r => !double.IsFinite(D(r["train_loss"]))))]);
    }).ToArray();
    Line(R(run, "training-loss.svg"), new LineChart { Title = "CNN on Fashion-MNIST (SGD): training loss per epoch", XLabel = "epoch", YLabel = "cross-entropy (augmented batches)", LogX = false, LogY = true },
        E(r => D(r["train_loss"])));
    Line(R(run, "test-accuracy.svg"), new LineChart { Title = "CNN on Fashion-MNIST (SGD): test accuracy per epoch", XLabel = "epoch", YLabel = "test accuracy (%)", LogX = false },
        E(r => 100 * D(r["test_accuracy"])));
    // Per configuration, the reported runs' best test accuracy and (runs since issue 33) the final model's Gram
    // effective rank (thesis figure 2.7): mean ± std, every seed a dot.
    var reported = Csv.Read(R(run, "cnn_fashion_mnist.csv")).Rows.Where(r => r["chosen"] == "yes").ToArray();
    foreach ((string file, string column, string title, double scale) in new[]
    {
        ("best-accuracy.svg", "best_test_accuracy", "best test accuracy (%)", 100.0),
        ("gram-effective-rank.svg", "gram_effective_rank", "Gram matrix exp(H), final model", 1.0),
    })
    {
        if (!reported[0].Has(column)) continue;
        var byConfig = reported.Where(r => r[column] is not ("" or "NaN")).GroupBy(r => r["config"]).OrderBy(g => g.Key != "original")
            .Select(g => (config: g.Key, values: g.Select(r => scale * D(r[column])).ToArray())).ToArray();
        if (byConfig.Length == 0) continue;
        written.AddRange(new BarChart { Title = $"CNN on Fashion-MNIST, SGD {epochs} epochs: {title}", YLabel = $"{title}: mean ± std, seeds as dots", Dots = true }.Save(R(run, file),
            [.. byConfig.Select(c => $"{c.config} ({c.values.Length} seeds)")],
            [new BarSeries(title, [.. byConfig.Select(c => c.values.Average())]) { Errors = [.. byConfig.Select(c => SeedSpread.Std(c.values))], Samples = [.. byConfig.Select(c => c.values)] }]));
    }
}

// Platonic alignment (PlatonicAlignment): every model's alignment to the strongest final model, per family and size,
// mean ± std over the seeds (the strongest model is the one absent from the file).
{
    var rows = Csv.Read(R("platonic-alignment", "alignment-to-strongest.csv")).Rows;
    var final = Csv.Read(R("platonic-alignment", "models.csv")).Rows;
    string last = final.Max(r => D(r["step"])).ToString(CultureInfo.InvariantCulture);
    string strongest = final.Where(r => r["step"] == last).MaxBy(r => D(r["test_accuracy"]))!["model"];
    Line(R("platonic-alignment", "alignment-to-strongest.svg"),
        new LineChart { Title = $"Alignment to the strongest model ({strongest}) over training", XLabel = "training step", YLabel = "mutual k-NN alignment", LogX = false, LogY = false, Markers = true },
        [.. rows.GroupBy(r => r["model"][..r["model"].LastIndexOf("-s", StringComparison.Ordinal)]).Select(g => ChartSeries.MeanOverRuns(g.Key,
            g.GroupBy(r => r["model"]).Select(run => (IReadOnlyList<(double, double)>)run.Select(r => (D(r["step"]), D(r["mutual_knn"]))).ToArray()).ToArray()))]);
}

// The LTE merge controller and rank policy (issue 37): one VitPretraining grid cell per policy and seed, each run's
// grid-curves.csv in its own folder; curves mean ± std over the seeds, and summary.md with Welch tests of the final
// accuracy against the fixed periods.
{
    Row[] rows = [.. Directory.GetDirectories(R("lte-controller")).Order(StringComparer.Ordinal).SelectMany(d => Csv.Read(Path.Combine(d, "grid-curves.csv")).Rows)];
    // A policy is a merge rule ("10", "adaptive 10-50 norm>=0.05", "10 rank 4-32": LteControls.Describe) and a head rank.
    string Key(Row r) => $"{r["merge_every"]}|{r["rank"]}";
    string Label(string key)
    {
        string[] parts = key.Split('|');
        return System.Text.RegularExpressions.Regex.Replace(parts[0], @"^(?:adaptive (\d+)-(\d+) norm>=([\d.]+)|(\d+))(?: rank (\d+)-(\d+))?$", m =>
            (m.Groups[4].Success ? $"fixed T = {m.Groups[4].Value}" : $"controller, T ∈ [{m.Groups[1].Value}, {m.Groups[2].Value}], ‖ΔW‖/‖W‖ ≥ {m.Groups[3].Value}") +
            (m.Groups[5].Success ? $", r from {parts[1]}, rank policy r ∈ [{m.Groups[5].Value}, {m.Groups[6].Value}]" : $", r = {parts[1]}"));
    }
    static int Period(string key) => int.TryParse(key.Split('|')[0], out int t) ? t : int.MaxValue;
    var policies = rows.GroupBy(Key).OrderBy(g => Period(g.Key)).ThenBy(g => int.Parse(g.Key.Split('|')[1], CultureInfo.InvariantCulture)).ThenBy(g => g.Key, StringComparer.Ordinal).ToArray();
    IReadOnlyList<(double, double)>[] Runs(IEnumerable<Row> policy, string x) =>
        [.. policy.GroupBy(r => r["seed"]).Select(seed => (IReadOnlyList<(double, double)>)seed.Select(r => (D(r[x]), 100 * D(r["test_accuracy"]))).ToArray())];
    string cell = $"{rows[0]["heads"]} heads";
    Line(R("lte-controller", "accuracy-vs-samples.svg"), new LineChart { Title = $"LTE ({cell}): test accuracy, mean ± std over seeds", XLabel = "cumulative training samples", YLabel = "test accuracy (%)", LogX = false, Markers = true },
        [.. policies.Select(p => ChartSeries.MeanOverRuns(Label(p.Key), Runs(p, "samples")))]);
    // Merges differ between the controller's seeds: each evaluation at the seeds' mean merge count, accuracy ± std.
    Line(R("lte-controller", "accuracy-vs-merges.svg"), new LineChart { Title = $"LTE ({cell}): test accuracy vs merges (communication rounds)", XLabel = "merges so far (mean over seeds)", YLabel = "test accuracy (%)", LogX = false, Markers = true },
        [.. policies.Select(p =>
        {
            var evaluations = p.GroupBy(r => D(r["step"])).OrderBy(g => g.Key).ToArray();
            return new ChartSeries($"{Label(p.Key)} (mean ± std, {p.Select(r => r["seed"]).Distinct().Count()} runs)",
                [.. evaluations.Select(e => (e.Average(r => D(r["merges"])), e.Average(r => 100 * D(r["test_accuracy"]))))])
            {
                Spread = [.. evaluations.Select(e => SeedSpread.Std([.. e.Select(r => 100 * D(r["test_accuracy"]))]))],
            };
        })]);
    // Final evaluation per seed.
    var finals = policies.ToDictionary(p => p.Key, p => p.GroupBy(r => r["seed"]).Select(seed => seed.MaxBy(r => D(r["step"]))!).ToArray());
    double[] Accuracy(string policy) => [.. finals[policy].Select(r => 100 * D(r["test_accuracy"]))];
    string[] fixedPeriods = [.. policies.Select(p => p.Key).Where(k => Period(k) < int.MaxValue && !k.Contains(" rank ", StringComparison.Ordinal))];
    string Versus(string policy, string other)
    {
        if (policy == other) return "—";
        WelchTest.Result w = WelchTest.Test(Accuracy(policy), Accuracy(other));
        return string.Create(CultureInfo.InvariantCulture, $"{w.MeanDifference:+0.00;−0.00} (t = {w.T:0.00;−0.00}, p = {w.P:F3})");
    }
    var md = new List<string>
    {
        $"| policy | seeds | merges | final mean head rank | final test accuracy (%) | {string.Join(" | ", fixedPeriods.Select(t => $"Δ vs {Label(t)}, Welch"))} |",
        $"|---|---:|---:|---:|---:|{string.Concat(fixedPeriods.Select(_ => "---:|"))}",
    };
    foreach (var p in policies)
        md.Add($"| {Label(p.Key)} | {finals[p.Key].Length} | {SeedSpread.MeanStd([.. finals[p.Key].Select(r => D(r["merges"]))], "F1")} | " +
               $"{SeedSpread.MeanStd([.. finals[p.Key].Select(r => D(r["mean_rank"]))], "F1")} | {SeedSpread.MeanStd(Accuracy(p.Key), "F2")} | " +
               $"{string.Join(" | ", fixedPeriods.Select(t => Versus(p.Key, t)))} |");
    OutputFile.WriteAllLines(R("lte-controller", "summary.md"), md);
}

Console.WriteLine($"re-rendered {written.Count / 2} figures (PNG and SVG) under {Path.GetFullPath(results)}");

static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

// Drops a last row recorded only a few steps after the one before, which would draw a spurious final point: runs
// recorded before 3026c78 evaluated twice at the end (the second with a single batch's training loss), and the Trainer's
// last training window of an epoch may hold a handful of steps.
// One run as it is; several (seeds) as mean ± std.
static ChartSeries OverRuns(string label, IReadOnlyList<IReadOnlyList<(double X, double Y)>> runs) =>
    runs.Count == 1 ? new ChartSeries(label, runs[0]) : ChartSeries.MeanOverRuns(label, runs);

static List<Row> WithoutDoubleEvaluation(List<Row> rows) =>
    rows.Count >= 3 && D(rows[^1]["step"]) - D(rows[^2]["step"]) < 0.5 * (D(rows[^2]["step"]) - D(rows[^3]["step"])) ? rows[..^1] : rows;

// Histogram density on 30 equal bins over [lo, hi], at the bin centres (as OverparamExperiments draws it).
static List<(double, double)> Density(double[] values, double lo, double hi)
{
    const int Bins = 30;
    double width = (hi - lo) / Bins;
    var counts = new int[Bins];
    foreach (double v in values) counts[Math.Min(Bins - 1, (int)((v - lo) / width))]++;
    return counts.Select((n, i) => (lo + (i + 0.5) * width, n / (values.Length * width))).ToList();
}
