namespace LowRankBias.Samples.PlatonicAlignment;

/// <summary>The sample's figures beyond the alignment matrix.</summary>
internal static class AlignmentPlots
{
    /// <summary>Alignment of each pair against the pair's mean accuracy, one colour per checkpoint (the thesis's
    /// "competent models align" plot).</summary>
    public static IReadOnlyList<string> AccuracyScatter(string path, IReadOnlyList<long> checkpoints,
        IReadOnlyList<(long Step, double AccuracyA, double AccuracyB, double Score)> pairs, int k)
    {
        var plot = Figure.Create($"Alignment vs competence (mutual k-NN, k = {k})", "mean test accuracy of the pair", "alignment");
        var palette = new ScottPlot.Palettes.Category10();
        for (int c = 0; c < checkpoints.Count; c++)
        {
            var at = pairs.Where(p => p.Step == checkpoints[c]).ToArray();
            if (at.Length == 0) continue;
            var points = plot.Add.ScatterPoints(at.Select(p => (p.AccuracyA + p.AccuracyB) / 2).ToArray(), at.Select(p => p.Score).ToArray(), palette.GetColor(c));
            points.MarkerSize = 6;
            points.LegendText = string.Create(CultureInfo.InvariantCulture, $"step {checkpoints[c]}");
        }
        plot.ShowLegend(ScottPlot.Edge.Right);
        return Figure.Save(plot, path, Figure.Width + 100);
    }

    /// <summary>Each checkpoint's alignment to a fixed reference network against its own accuracy, one colour per family.</summary>
    public static IReadOnlyList<string> ToReference(string path, string reference, IReadOnlyList<(string Family, double Accuracy, double Score)> scores, int k)
    {
        var plot = Figure.Create($"Alignment to {reference} (mutual k-NN, k = {k})", "test accuracy on Fashion-MNIST (%)", "alignment");
        var palette = new ScottPlot.Palettes.Category10();
        string[] families = scores.Select(s => s.Family).Distinct().ToArray();
        for (int f = 0; f < families.Length; f++)
        {
            var of = scores.Where(s => s.Family == families[f]).ToArray();
            var points = plot.Add.ScatterPoints(of.Select(s => 100 * s.Accuracy).ToArray(), of.Select(s => s.Score).ToArray(), palette.GetColor(f));
            points.MarkerSize = 6;
            points.LegendText = families[f];
        }
        plot.ShowLegend(ScottPlot.Edge.Right);
        return Figure.Save(plot, path, Figure.Width + 100);
    }

    /// <summary>Alignment to the strongest final model over training per family and size, mean ± std over the seeds.</summary>
    public static IReadOnlyList<string> ToStrongest(string path, string strongest, IReadOnlyList<(string Group, string Model, long Step, double Score)> scores)
    {
        ChartSeries[] series = scores.GroupBy(s => s.Group).Select(g => ChartSeries.MeanOverRuns(g.Key,
            g.GroupBy(s => s.Model).Select(run => (IReadOnlyList<(double, double)>)run.OrderBy(s => s.Step).Select(s => ((double)s.Step, s.Score)).ToArray()).ToArray())).ToArray();
        return new LineChart { Title = $"Alignment to the strongest model ({strongest}) over training", XLabel = "training step", YLabel = "mutual k-NN alignment", LogX = false, LogY = false, Markers = true }
            .Save(path, series);
    }
}
