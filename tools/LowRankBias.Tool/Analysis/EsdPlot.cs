using LowRankBias.Plotting;

namespace LowRankBias.Tool.Analysis;

/// <summary>
/// One layer's ESD on log-log axes, as WeightWatcher's <c>plot_loghist</c> draws it (a density histogram over 100
/// logarithmically spaced bins; fewer, n/4 but at least 10, for a short spectrum, whose bins would be mostly empty), with the fitted power law from x_min (its density scaled by the tail's share of the
/// eigenvalues, so it lies on the histogram), the Marchenko–Pastur bulk of the MP fit, and the randomized ESD when given.
/// </summary>
internal static class EsdPlot
{

    public static IReadOnlyList<string> Save(string path, LayerMetrics layer, double[] evals, double[]? randomized)
    {
        var series = new List<ChartSeries> { new("ESD", Histogram(evals)) };
        double q = (double)layer.N / layer.M;
        double low = evals.Where(e => e > 0).DefaultIfEmpty(layer.BulkMax).Min(), high = evals[^1];
        if (double.IsFinite(layer.Alpha))
        {
            double share = (double)layer.NumPlSpikes / evals.Length;
            series.Add(new($"power law α = {layer.Alpha:0.###}", LogGrid(layer.XMin, high)
                .Select(x => (x, share * (layer.Alpha - 1) / layer.XMin * Math.Pow(x / layer.XMin, -layer.Alpha))).ToList()));
        }
        if (double.IsFinite(layer.BulkMax) && layer.BulkMax > 0)
            series.Add(new($"MP bulk (λ+ = {layer.BulkMax:0.###})", LogGrid(Math.Max(low, layer.BulkMax * 1e-3), layer.BulkMax)
            .Select(x => (x, MarchenkoPasturFit.Density(x, q, layer.BulkMax))).ToList()));
        if (randomized is not null) series.Add(new("randomized ESD", Histogram(randomized)));
        return new LineChart
        {
            Title = $"ESD of {layer.Name}",
            XLabel = "eigenvalue λ of WᵀW",
            YLabel = "density",
            LogX = true,
            LogY = true,
            Markers = false,
        }.Save(path, series);
    }

    // Density at the (geometric) centre of each non-empty bin; empty bins are left out (no log of 0).
    private static List<(double X, double Y)> Histogram(double[] values)
    {
        double[] positive = values.Where(v => v > 0).ToArray();
        var points = new List<(double, double)>();
        if (positive.Length == 0) return points;
        double lo = Math.Log10(positive.Min()), hi = Math.Log10(positive.Max());
        if (hi == lo) hi = lo + 1e-3;
        int bins = Math.Clamp(positive.Length / 4, 10, 100);
        var counts = new int[bins];
        foreach (double v in positive) counts[Math.Min(bins - 1, (int)((Math.Log10(v) - lo) / (hi - lo) * bins))]++;
        for (int i = 0; i < bins; i++)
        {
            if (counts[i] == 0) continue;
            double left = Math.Pow(10, lo + (hi - lo) * i / bins), right = Math.Pow(10, lo + (hi - lo) * (i + 1) / bins);
            points.Add((Math.Sqrt(left * right), counts[i] / (values.Length * (right - left))));
        }
        return points;
    }

    private static IEnumerable<double> LogGrid(double from, double to) =>
        Enumerable.Range(0, 200).Select(i => from * Math.Pow(to / from, i / 199.0));
}
