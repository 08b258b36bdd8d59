using ScottPlot;

namespace LowRankBias.Plotting;

/// <summary>
/// A line chart saved as PNG and SVG. Axes fit the data (no padding to round numbers); an axis whose positive data span
/// at least <see cref="AutoLogRatio"/>× is log₁₀ unless told otherwise, with ticks at decades (and 2, 5 × 10ᵏ or every
/// integer multiple when the data span less), so a loss from 0.27 to 1.7 fills the height and ranks 1–32 spread out.
/// The legend sits outside the data, at the right. Non-finite points, and non-positive ones on a log axis, are skipped.
/// A series with a <see cref="ChartSeries.Spread"/> gets a shaded band of its colour (error bars when it is
/// <see cref="ChartSeries.MarkersOnly"/>), and the axes fit them too;
/// <see cref="YRange"/> fixes the y axis instead.
/// </summary>
public sealed record LineChart
{
    /// <summary>Data spanning at least this ratio (max / min, all positive) gets a log axis when the scale is not set.</summary>
    public const double AutoLogRatio = 30;

    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";
    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; init; } = "";
    /// <summary>Label of the y axis.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Log₁₀ x axis: true, false, or null to decide from the data.</summary>
    public bool? LogX { get; init; }

    /// <summary>Log₁₀ y axis: true, false, or null to decide from the data.</summary>
    public bool? LogY { get; init; }

    /// <summary>Labelled x ticks at these positions instead of the automatic ones (e.g. "0" for a λ = 0 drawn left of a log scale).</summary>
    public IReadOnlyList<(double Position, string Label)>? XTicks { get; init; }

    /// <summary>
    /// Fixed y-axis limits (linear axis) instead of fitting the data, e.g. 0–100 % when differences of a point or two
    /// between single-seed runs must not fill the height and look like effects. Data outside them is clipped.
    /// </summary>
    public (double Min, double Max)? YRange { get; init; }

    /// <summary>Draws markers at the points (default: only when a series has few points).</summary>
    public bool? Markers { get; init; }

    /// <summary>Saves the chart of <paramref name="series"/> as <paramref name="path"/> with .png and .svg.</summary>
    public IReadOnlyList<string> Save(string path, IReadOnlyList<ChartSeries> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var finite = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
        if (finite.Length == 0) throw new ArgumentException($"{Path.GetFileName(path)}: no finite points to plot", nameof(series));
        if (YRange is { } fixedY && (!(fixedY.Min < fixedY.Max) || !double.IsFinite(fixedY.Min) || !double.IsFinite(fixedY.Max) || LogY == true))
            throw new ArgumentException($"{Path.GetFileName(path)}: YRange ({fixedY.Min}, {fixedY.Max}) needs finite Min < Max on a linear y axis", nameof(YRange));
        bool logX = LogX ?? SpansDecades(finite.Select(p => p.X)), logY = YRange is null && (LogY ?? SpansDecades(finite.Select(p => p.Y)));

        Plot plot = Figure.Create(Title, XLabel, YLabel);
        int[] counts = series.Select(s => s.Points.Count).ToArray();
        bool markers = Markers ?? counts.DefaultIfEmpty(0).Max() <= 30;
        (double min, double max) xs = (double.PositiveInfinity, double.NegativeInfinity), ys = xs;
        for (int i = 0; i < series.Count; i++)
        {
            IReadOnlyList<double>? spread = series[i].Spread;
            if (spread is not null && (spread.Count != series[i].Points.Count || spread.Any(s => !(s >= 0))))
                throw new ArgumentException($"{Path.GetFileName(path)}: series '{series[i].Label}' needs one finite spread ≥ 0 per point " +
                                            $"({series[i].Points.Count} points, {spread.Count} spreads)", nameof(series));
            var points = series[i].Points.Select((p, j) => (p.X, p.Y, S: spread?[j] ?? 0))
                .Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && double.IsFinite(p.S) && (!logX || p.X > 0) && (!logY || p.Y > 0))
                // On a log axis a band reaching zero or below is cut at the line.
                .Select(p => (X: Scale(p.X, logX), Y: Scale(p.Y, logY), Low: Scale(logY && p.Y - p.S <= 0 ? p.Y : p.Y - p.S, logY), High: Scale(p.Y + p.S, logY)))
                .ToArray();
            if (points.Length == 0) continue;
            double[] x = points.Select(p => p.X).ToArray();
            if (spread is not null && series[i].MarkersOnly)
            {
                // Separate points: a bar at each, since a band between them would invent values in the gaps.
                var bars = plot.Add.ErrorBar(x, points.Select(p => p.Y).ToArray(), points.Select(p => p.Y - p.Low).ToArray());
                bars.YErrorPositive = points.Select(p => p.High - p.Y).ToArray();
                bars.Color = Palette(i, series.Count);
                bars.LineWidth = 1.5f;
            }
            else if (spread is not null)
            {
                var band = plot.Add.FillY(x, points.Select(p => p.Low).ToArray(), points.Select(p => p.High).ToArray());
                band.FillColor = Palette(i, series.Count).WithAlpha(0.2);
                band.LineWidth = 0;
            }
            var line = plot.Add.Scatter(x, points.Select(p => p.Y).ToArray(), Palette(i, series.Count));
            line.LegendText = series[i].Label;
            line.LineWidth = series[i].MarkersOnly ? 0 : 2;
            line.MarkerSize = series[i].MarkersOnly ? 9 : markers ? 6 : 0;
            xs = (Math.Min(xs.min, x.Min()), Math.Max(xs.max, x.Max()));
            ys = (Math.Min(ys.min, points.Min(p => p.Low)), Math.Max(ys.max, points.Max(p => p.High)));
        }
        if (double.IsInfinity(xs.min)) throw new ArgumentException($"{Path.GetFileName(path)}: no points to plot on these axes", nameof(series));
        if (XTicks is not null)
        {
            var manual = new ScottPlot.TickGenerators.NumericManual();
            foreach ((double position, string label) in XTicks) manual.AddMajor(logX ? Math.Log10(position) : position, label);
            plot.Axes.Bottom.TickGenerator = manual;
        }
        else if (logX) plot.Axes.Bottom.TickGenerator = LogTicks.Generator(xs.min, xs.max);
        if (logY) plot.Axes.Left.TickGenerator = LogTicks.Generator(ys.min, ys.max);
        // Data-tight: the limits are the data's, widened only by a sliver so lines on the edge stay visible.
        double padX = Pad(xs), padY = Pad(ys);
        if (YRange is { } y) plot.Axes.SetLimits(xs.min - padX, xs.max + padX, y.Min, y.Max);
        else plot.Axes.SetLimits(xs.min - padX, xs.max + padX, ys.min - padY, ys.max + padY);
        if (series.Count > 1) plot.ShowLegend(Edge.Right); // one series: the title says what it is
        else plot.HideLegend();
        return Figure.Save(plot, path, Figure.Width + (series.Count > 1 ? 40 + 7 * series.Max(s => s.Label.Length) : 0));
    }

    private static double Scale(double value, bool log) => log ? Math.Log10(value) : value;

    private static double Pad((double min, double max) range) => range.max > range.min ? 0.02 * (range.max - range.min) : Math.Max(Math.Abs(range.min) * 0.05, 0.5);

    private static bool SpansDecades(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        return v.All(x => x > 0) && v.Max() / v.Min() >= AutoLogRatio;
    }

    // Ten distinct colours while they suffice; beyond, twenty (pairs of shades), so no two series share one.
    private static Color Palette(int i, int count) =>
        count <= 10 ? new ScottPlot.Palettes.Category10().GetColor(i) : new ScottPlot.Palettes.Category20().GetColor(i);
}
