using LowRankBias.Plotting;
using ScottPlot;

namespace LowRankBias.Tool.Analysis;

/// <summary>
/// One layer's ESD on log-log axes, as WeightWatcher's <c>plot_loghist</c> draws it (a density histogram over 100
/// logarithmically spaced bins; fewer, n/4 but at least 10, for a short spectrum, whose bins would be mostly empty) —
/// as filled bars — with the fitted power law from x_min (its density scaled by the tail's share of the eigenvalues, so
/// it lies on the bars) as a solid line and x_min marked, the Marchenko–Pastur bulk of the MP fit dashed on top, and the
/// randomized ESD, when given, as an unfilled outline over the same bins: it often lies almost on the real ESD, and
/// drawn as a second filled or plain line it hid it. The axes fit the histograms; the curves are cut at their edges.
/// </summary>
internal static class EsdPlot
{
    // Okabe–Ito colours, told apart with colour-blind eyes too.
    private static readonly Color s_esd = Color.FromHex("#0072B2"), s_randomized = Color.FromHex("#D55E00"),
        s_powerLaw = Color.FromHex("#000000"), s_bulk = Color.FromHex("#009E73");

    public static IReadOnlyList<string> Save(string path, LayerMetrics layer, double[] evals, double[]? randomized)
    {
        double[] positive = [.. evals.Where(e => e > 0), .. randomized?.Where(e => e > 0) ?? []];
        double lo = Math.Log10(positive.Min()), hi = Math.Log10(positive.Max());
        if (hi == lo) hi = lo + 1e-3;
        double[] edges = Edges(lo, hi, Math.Clamp(evals.Count(e => e > 0) / 4, 10, 100));
        double[] real = Histogram(evals, edges), shuffled = randomized is null ? [] : Histogram(randomized, edges);
        double[] densities = [.. real.Concat(shuffled).Where(d => d > 0)];
        double bottom = Math.Log10(densities.Min()) - 0.3, top = Math.Log10(densities.Max()) + 0.3;

        Plot plot = Figure.Create($"ESD of {layer.Name}", "eigenvalue λ of WᵀW (log scale)", "density (log scale)");
        var (stepX, stepY) = Steps(edges, real, bottom);
        var bars = plot.Add.FillY(stepX, [.. stepY.Select(_ => bottom)], stepY);
        bars.FillColor = s_esd.WithAlpha(0.35);
        bars.LineColor = s_esd;
        bars.LineWidth = 1;
        bars.LegendText = $"ESD ({evals.Length} eigenvalues)";
        if (randomized is not null)
        {
            var (rx, ry) = Steps(edges, shuffled, bottom);
            var outline = plot.Add.ScatterLine(rx, ry, s_randomized);
            outline.LineWidth = 1.5f;
            outline.LegendText = "randomized ESD (shuffled W)";
        }
        if (double.IsFinite(layer.Alpha))
        {
            double share = (double)layer.NumPlSpikes / evals.Length;
            Curve(plot, [.. LogGrid(layer.XMin, evals[^1]).Select(x => (x, share * (layer.Alpha - 1) / layer.XMin * Math.Pow(x / layer.XMin, -layer.Alpha)))],
                s_powerLaw, LinePattern.Solid, $"power law α = {layer.Alpha:0.###}");
            var xmin = plot.Add.VerticalLine(Math.Log10(layer.XMin), 1.5f, s_powerLaw);
            xmin.LinePattern = LinePattern.Dotted;
            xmin.LegendText = $"x_min = {layer.XMin:G3}";
        }
        if (double.IsFinite(layer.BulkMax) && layer.BulkMax > 0)
        {
            double q = (double)layer.N / layer.M;
            var points = LogGrid(Math.Max(Math.Pow(10, lo), layer.BulkMax * 1e-3), layer.BulkMax)
                .Select(x => (X: x, Y: MarchenkoPasturFit.Density(x, q, layer.BulkMax))).Where(p => p.Y > 0).ToArray();
            if (points.Length > 1) Curve(plot, points, s_bulk, LinePattern.Dashed, $"MP bulk (λ+ = {layer.BulkMax:0.###})");
        }

        plot.Axes.Bottom.TickGenerator = LogTicks.Generator(lo, hi);
        plot.Axes.Left.TickGenerator = LogTicks.Generator(bottom, top);
        plot.Axes.SetLimits(lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo), bottom, top);
        plot.ShowLegend(Edge.Right);
        return Figure.Save(plot, path, Figure.Width + 230);
    }

    /// <summary>log₁₀ of <paramref name="count"/> + 1 bin edges, evenly spaced over [lo, hi] (log₁₀ units).</summary>
    internal static double[] Edges(double lo, double hi, int count) => [.. Enumerable.Range(0, count + 1).Select(i => lo + (hi - lo) * i / count)];

    /// <summary>Density of <paramref name="values"/> in each bin (edges in log₁₀): count / (all values · bin width), as
    /// numpy's density=True over all the values; zeros and values outside the edges fall in no bin.</summary>
    internal static double[] Histogram(double[] values, double[] edges)
    {
        int bins = edges.Length - 1;
        var counts = new int[bins];
        double lo = edges[0], hi = edges[^1];
        foreach (double v in values)
        {
            if (!(v > 0)) continue;
            double at = (Math.Log10(v) - lo) / (hi - lo) * bins;
            if (at >= 0 && at <= bins) counts[Math.Min(bins - 1, (int)at)]++;
        }
        return [.. Enumerable.Range(0, bins).Select(i => counts[i] / (values.Length * (Math.Pow(10, edges[i + 1]) - Math.Pow(10, edges[i]))))];
    }

    // The outline of bars standing on `bottom` (log₁₀ units): each bin's top from its left to its right edge; an empty
    // bin drops to the bottom.
    private static (double[] X, double[] Y) Steps(double[] edges, double[] density, double bottom)
    {
        var x = new List<double> { edges[0] };
        var y = new List<double> { bottom };
        for (int i = 0; i < density.Length; i++)
        {
            double level = density[i] > 0 ? Math.Log10(density[i]) : bottom;
            x.AddRange([edges[i], edges[i + 1]]);
            y.AddRange([level, level]);
        }
        x.Add(edges[^1]);
        y.Add(bottom);
        return (x.ToArray(), y.ToArray());
    }

    private static void Curve(Plot plot, IReadOnlyList<(double X, double Y)> points, Color color, LinePattern pattern, string label)
    {
        var line = plot.Add.ScatterLine(points.Select(p => Math.Log10(p.X)).ToArray(), points.Select(p => Math.Log10(p.Y)).ToArray(), color);
        line.LineWidth = 3;
        line.LinePattern = pattern;
        line.LegendText = label;
    }

    private static IEnumerable<double> LogGrid(double from, double to) =>
        Enumerable.Range(0, 200).Select(i => from * Math.Pow(to / from, i / 199.0));
}
