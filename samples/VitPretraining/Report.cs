using Spectre.Console;

namespace VitPretraining;

/// <summary>Writes the comparison's CSV, summary table and plots.</summary>
internal static class Report
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Curves(IReadOnlyList<Point> points, string output, string title)
    {
        var curves = new CsvTable("method", "step", "samples", "samples_per_device", "train_loss", "test_loss", "test_accuracy", "head_cosine_similarity", "seconds");
        foreach (Point p in points)
            curves.Add(p.Method, p.Step, p.Samples, p.SamplesPerDevice, p.TrainLoss, p.TestLoss, p.TestAccuracy, p.HeadCosineSimilarity, CsvTable.Fixed(p.Seconds, 1));
        curves.Save(Path.Combine(output, "curves.csv"));
        var byMethod = points.GroupBy(p => p.Method).ToArray();
        ChartSeries Series(IGrouping<string, Point> g, Func<Point, double> x, Func<Point, double> y) => new(g.Key, g.Select(p => (x(p), y(p))).ToArray());
        void Plot(string file, LineChart chart, Func<Point, double> x, Func<Point, double> y, IEnumerable<IGrouping<string, Point>> groups) =>
            chart.Save(Path.Combine(output, file), groups.Select(g => Series(g, x, y)).ToArray());

        Plot("accuracy-vs-samples.svg", new LineChart { Title = $"{title}: test accuracy", XLabel = "cumulative training samples", YLabel = "test accuracy (%)" },
            p => p.Samples, p => 100 * p.TestAccuracy, byMethod);
        Plot("accuracy-vs-samples-per-device.svg", new LineChart { Title = $"{title}: test accuracy", XLabel = "training samples per device", YLabel = "test accuracy (%)" },
            p => p.SamplesPerDevice, p => 100 * p.TestAccuracy, byMethod);
        Plot("train-loss.svg", new LineChart { Title = $"{title}: training loss", XLabel = "cumulative training samples", YLabel = "cross-entropy", LogY = true },
            p => p.Samples, p => p.TrainLoss, byMethod);
        var lte = byMethod.Select(g => g.Where(p => p.HeadCosineSimilarity is not null)).Where(g => g.Any())
            .Select(g => g.GroupBy(p => p.Method).Single()).ToArray();
        if (lte.Length > 0)
            Plot("head-similarity.svg", new LineChart { Title = $"{title}: LTE heads' mean pairwise cosine similarity of BₙAₙ", XLabel = "cumulative training samples", YLabel = "cosine similarity" },
                p => p.Samples, p => p.HeadCosineSimilarity!.Value, lte);
    }

    /// <summary>The points of an earlier run's curves.csv, so that methods run separately are compared together.</summary>
    public static IEnumerable<Point> Read(string curvesCsv)
    {
        foreach (string line in File.ReadLines(curvesCsv).Skip(1))
        {
            string[] f = line.Split(',');
            if (f.Length != 9) throw new InvalidDataException($"{curvesCsv}: expected 9 columns, got {f.Length} in '{line}'");
            double D(int i) => double.Parse(f[i], Invariant);
            yield return new Point(f[0], long.Parse(f[1], Invariant), long.Parse(f[2], Invariant), long.Parse(f[3], Invariant), D(4), D(5), D(6),
                f[7].Length == 0 ? null : D(7), D(8));
        }
    }

    public static void Summary(IReadOnlyList<Point> points, string output, IReadOnlyDictionary<string, FinalWeights> finals) =>
        Table(points, finals).Write(Path.Combine(output, "summary.md"));

    /// <summary>The comparison table: accuracy, samples, wall time, and where this run trained the method, what it trained and the final weights' rank.</summary>
    private static SummaryTable Table(IReadOnlyList<Point> points, IReadOnlyDictionary<string, FinalWeights> finals)
    {
        var table = new SummaryTable("method", "samples", "samples/device", "final test acc.", "best test acc.", "train loss", "wall time (s)",
            "parameters trained", "mean effective rank exp(H)", "mean exp(H)/R");
        foreach (IGrouping<string, Point> g in points.GroupBy(p => p.Method))
        {
            Point last = g.Last();
            FinalWeights? f = finals.GetValueOrDefault(g.Key);
            table.AddRow(g.Key, last.Samples.ToString("N0", Invariant), last.SamplesPerDevice.ToString("N0", Invariant),
                (100 * last.TestAccuracy).ToString("F2", Invariant) + " %", (100 * g.Max(p => p.TestAccuracy)).ToString("F2", Invariant) + " %",
                last.TrainLoss.ToString("F3", Invariant), last.Seconds.ToString("F0", Invariant),
                f?.TrainedParameters.ToString("N0", Invariant) ?? "—", f?.MeanEffectiveRank.ToString("F1", Invariant) ?? "—",
                f?.MeanNormalizedEffectiveRank.ToString("F3", Invariant) ?? "—");
        }
        return table;
    }

    /// <summary>report.md: what ran, the comparison table and the figures (PNG).</summary>
    public static void Markdown(IReadOnlyList<Point> points, string output, IReadOnlyDictionary<string, FinalWeights> finals, string title, bool spectra)
    {
        var md = new List<string>
        {
            $"# {title}", "",
            "Every method starts from the same initial weights and sees the same batches (LTE: N heads, each on its own share of every " +
            "batch, merged into the weights every T steps). Parameters trained: the tensors the optimizer updates (LTE: all N heads). " +
            "Effective rank: exp of the entropy of the normalised singular values, averaged over the model's weight matrices as evaluated " +
            "(LoRA: W + s·BA; LTE: the merged weights), and divided by the matrix's smaller side (exp(H)/R).", "",
            Table(points, finals).ToMarkdown(), "",
            "![test accuracy](accuracy-vs-samples.png)", "![training loss](train-loss.png)",
        };
        if (File.Exists(Path.Combine(output, "head-similarity.png"))) md.Add("![LTE heads' similarity](head-similarity.png)");
        if (spectra)
            foreach (string method in finals.Keys)
                md.AddRange(["", $"## {method}: spectra of the weights during training", "",
                    $"![{method} effective rank]({method}/effective-rank.png) ![{method} singular values]({method}/singular-values.png)"]);
        OutputFile.WriteAllLines(Path.Combine(output, "report.md"), md);
    }

    /// <summary>Elements of the tensors the optimizer updates.</summary>
    public static long TrainedParameters(Method method) => method.Evaluated.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    public static void Grid(IReadOnlyList<GridCell> cells, IReadOnlyList<GridPoint> curves, string output)
    {
        var curve = new CsvTable("heads", "rank", "merge_every", "seed", "step", "samples", "merges", "mean_rank", "train_loss", "test_loss", "test_accuracy");
        foreach (var c in curves)
            curve.Add(c.Heads, c.Rank, c.MergeEvery, c.Seed, c.Point.Step, c.Point.Samples, c.Merges, c.MeanRank, c.Point.TrainLoss, c.Point.TestLoss, c.Point.TestAccuracy);
        curve.Save(Path.Combine(output, "grid-curves.csv"));
        var grid = new CsvTable("heads", "rank", "merge_every", "merges", "head_resets", "final_mean_rank", "seed", "test_accuracy");
        foreach (var c in cells) grid.Add(c.Heads, c.Rank, c.MergeEvery, c.Merges, c.HeadResets, c.FinalMeanRank, c.Seed, c.Accuracy);
        grid.Save(Path.Combine(output, "grid.csv"));
        var table = new Table().AddColumns("heads", "rank", "merge every", "merges", "head resets", "final mean rank", "test acc.");
        foreach (var c in cells)
            table.AddRow($"{c.Heads}", $"{c.Rank}", Markup.Escape(c.MergeEvery), $"{c.Merges}", $"{c.HeadResets}", c.FinalMeanRank.ToString("F1", Invariant),
                (100 * c.Accuracy).ToString("F2", Invariant) + " %");
        AnsiConsole.Write(table);
    }
}

/// <summary>One LTE run of the grid: its configuration, how it merged (the merge period or the controller), how many
/// merges (communication rounds) and head resets it made, the layers' mean head rank at the end (the starting rank
/// unless a rank policy moved it), and its final test accuracy.</summary>
internal sealed record GridCell(int Heads, int Rank, string MergeEvery, long Merges, long HeadResets, double FinalMeanRank, int Seed, double Accuracy);

/// <summary>One evaluation of a grid cell: the merges made (communication rounds) and the layers' mean head rank so far.</summary>
internal sealed record GridPoint(int Heads, int Rank, string MergeEvery, int Seed, Point Point, long Merges, double MeanRank);

/// <summary>What a method ended with: how much it trained and how low-rank its weights became.</summary>
internal sealed record FinalWeights(long TrainedParameters, double MeanEffectiveRank, double MeanNormalizedEffectiveRank)
{
    public static FinalWeights Of(Method method)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        IReadOnlyList<MatrixSpectrum> spectra = SpectralMetrics.Analyze(SpectralMonitor.Weights(method.Evaluated));
        return new(Report.TrainedParameters(method), spectra.Average(s => s.EffectiveRank), spectra.Average(s => s.NormalizedEffectiveRank));
    }
}
