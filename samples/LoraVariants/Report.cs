using System.Text;
using LowRankBias.Statistics;

namespace LoraVariants;

/// <summary>The results as CSV, Markdown tables, figures (PNG and SVG) and a summary whose verdicts follow Welch's test.</summary>
internal static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Two-sided significance level of the verdicts.</summary>
    public const double Alpha = 0.05;

    public static void TransferCsv(IReadOnlyList<TransferRun> runs, string output)
    {
        var curves = new CsvTable("method", "seed", "step", "samples", "test_accuracy");
        foreach (TransferRun r in runs)
            foreach (var p in r.Curve) curves.Add(r.Method, r.Seed, p.Step, p.Samples, p.Accuracy);
        curves.Save(Path.Combine(output, "transfer-curves.csv"));
        var finals = new CsvTable("method", "seed", "trainable_params", "final_test_accuracy", "seconds_per_step");
        foreach (TransferRun r in runs) finals.Add(r.Method, r.Seed, r.Trainable, r.Final, r.SecondsPerStep);
        finals.Save(Path.Combine(output, "transfer-runs.csv"));
    }

    /// <summary>The transfer table (Markdown) with the verdict of each method against LoRA; draws both figures.</summary>
    public static string Transfer(IReadOnlyList<TransferRun> runs, string output, string setup)
    {
        var methods = runs.GroupBy(r => r.Method).ToList();
        double[]? lora = methods.FirstOrDefault(g => g.Key == "lora")?.Select(r => r.Final).ToArray();
        var table = new SummaryTable("method", "trainable params", "final accuracy (%)", "time per step (ms)", "Welch t vs LoRA", "p", "beats LoRA?");
        var verdicts = new List<string>();
        foreach (var g in methods)
        {
            double[] finals = g.Select(r => r.Final).ToArray();
            (string t, string p, string verdict) = ("—", "—", "—");
            if (g.Key != "lora" && lora is { Length: >= 2 } && finals.Length >= 2)
            {
                WelchTest.Result w = WelchTest.Test(finals, lora);
                (t, p) = double.IsNaN(w.T) ? ("n/a (no spread)", "n/a") : (w.T.ToString("F2", Inv), w.P.ToString("G2", Inv));
                verdict = Verdict(w);
                verdicts.Add(string.Create(Inv, $"- {g.Key} vs LoRA: {100 * w.MeanDifference:+0.00;−0.00} points (t = {t}, ν = {w.DegreesOfFreedom:F1}, p = {p}): **{verdict}**."));
            }
            table.AddRow(g.Key, string.Join("/", g.Select(r => r.Trainable).Distinct().Select(n => n.ToString("N0", Inv))),
                SeedSpread.MeanStd(finals, "F2", 100), SeedSpread.MeanStd(g.Select(r => r.SecondsPerStep).ToArray(), "F1", 1000), t, p, verdict);
        }
        table.Write(Path.Combine(output, "transfer.md"));
        Figures(methods.Select(g => (g.Key, g.ToList())).ToList(), output);
        int seeds = methods.Max(g => g.Count());
        var text = new StringBuilder();
        text.AppendLine(setup).AppendLine().Append(table.ToMarkdown()).AppendLine();
        text.AppendLine($"\"Beats LoRA?\" is Welch's two-sided t-test of the final accuracies ({seeds} seeds each) against LoRA's: **holds** when the " +
                        $"method's mean is higher and p < {Alpha}, **direction only** when it is higher but p ≥ {Alpha}, **does not hold** when it is not higher.");
        foreach (string v in verdicts) text.AppendLine(v);
        return text.ToString();
    }

    /// <summary>holds / direction only / does not hold, for "the first sample's mean is higher".</summary>
    public static string Verdict(WelchTest.Result w) =>
        w.MeanDifference <= 0 ? "does not hold" : w.P < Alpha ? "holds" : "direction only";

    private static void Figures(IReadOnlyList<(string Method, List<TransferRun> Runs)> methods, string output)
    {
        var series = methods.Select(m =>
        {
            var points = m.Runs[0].Curve.Select((p, i) => (p.Samples, values: m.Runs.Select(r => 100 * r.Curve[i].Accuracy).ToArray())).ToArray();
            return new ChartSeries($"{m.Method} (n = {m.Runs.Count})", points.Select(p => ((double)p.Samples, p.values.Average())).ToArray())
            {
                Spread = points.Select(p => SeedSpread.Std(p.values)).ToArray(),
            };
        }).ToArray();
        new LineChart
        {
            Title = "Transfer to classes 5–9: test accuracy, mean ± std over seeds", XLabel = "training samples seen", YLabel = "test accuracy (%)",
            LogX = false, LogY = false,
        }.Save(Path.Combine(output, "accuracy-vs-samples.svg"), series);
        var finals = methods.Select(m => m.Runs.Select(r => 100 * r.Final).ToArray()).ToArray();
        new BarChart { Title = "Transfer to classes 5–9: final test accuracy (mean ± std, dots: seeds)", XLabel = "method", YLabel = "test accuracy (%)", Dots = true }
            .Save(Path.Combine(output, "final-accuracy.svg"), methods.Select(m => m.Method).ToArray(),
                [new BarSeries("final accuracy", finals.Select(f => f.Average()).ToArray()) { Errors = finals.Select(SeedSpread.Std).ToArray(), Samples = finals }]);
    }

    public static void MergingCsv(IReadOnlyList<MergeResult> results, string output)
    {
        var table = new CsvTable("seed", "model", "accuracy_classes_0_4", "accuracy_classes_5_9", "accuracy_10_way");
        foreach (MergeResult r in results) table.Add(r.Seed, r.Model, r.FirstSubset, r.SecondSubset, r.TenWay);
        table.Save(Path.Combine(output, "merging.csv"));
    }

    /// <summary>The merging table (Markdown, mean ± std over seeds) and its grouped bar figure.</summary>
    public static string Merging(IReadOnlyList<MergeResult> results, string output, string setup)
    {
        var models = results.GroupBy(r => r.Model).ToList();
        var table = new SummaryTable("model", "classes 0–4 (argmax among 0–4, %)", "classes 5–9 (argmax among 5–9, %)", "all classes (10-way, %)");
        foreach (var g in models)
            table.AddRow(g.Key, SeedSpread.MeanStd(g.Select(r => r.FirstSubset).ToArray(), "F2", 100), SeedSpread.MeanStd(g.Select(r => r.SecondSubset).ToArray(), "F2", 100),
                SeedSpread.MeanStd(g.Select(r => r.TenWay).ToArray(), "F2", 100));
        table.Write(Path.Combine(output, "merging.md"));
        BarSeries Series(string label, Func<MergeResult, double> value)
        {
            double[][] samples = models.Select(g => g.Select(r => 100 * value(r)).ToArray()).ToArray();
            return new BarSeries(label, samples.Select(s => s.Average()).ToArray())
            {
                Errors = samples.Select(SeedSpread.Std).ToArray(), Samples = samples[0].Length > 1 ? samples : null,
            };
        }
        int seeds = models.Max(g => g.Count());
        new BarChart { Title = $"Adapter merging, weights [1, 1]: test accuracy ({(seeds == 1 ? "1 seed" : $"mean ± std over {seeds} seeds")})", XLabel = "model", YLabel = "test accuracy (%)" }
            .Save(Path.Combine(output, "merging.svg"), models.Select(g => g.Key).ToArray(),
                [Series("classes 0–4, 5-way", r => r.FirstSubset), Series("classes 5–9, 5-way", r => r.SecondSubset), Series("all classes, 10-way", r => r.TenWay)]);
        return setup + "\n\n" + table.ToMarkdown();
    }
}
