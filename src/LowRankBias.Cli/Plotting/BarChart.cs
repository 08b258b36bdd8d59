using ScottPlot;

namespace LowRankBias.Plotting;

/// <summary>One series of a <see cref="BarChart"/>: a value per category, with optional error bars and the individual
/// values each one summarises (e.g. mean ± std over seeds, and the seeds' values).</summary>
public sealed record BarSeries(string Label, IReadOnlyList<double> Values)
{
    /// <summary>Half-length of each category's error bar (≥ 0), or null for none.</summary>
    public IReadOnlyList<double>? Errors { get; init; }

    /// <summary>The values behind each category's value, drawn as small dots over it, or null.</summary>
    public IReadOnlyList<IReadOnlyList<double>>? Samples { get; init; }
}

/// <summary>
/// Values per category, saved as PNG and SVG: bars from zero, grouped side by side when there are several series (one
/// colour each, legend outside at the right), or with <see cref="Dots"/> each value as a dot on an axis fitted to the
/// data, for differences far smaller than the values. Error bars and individual samples are drawn where the series has them.
/// </summary>
public sealed record BarChart
{
    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";
    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; init; } = "";
    /// <summary>Label of the y axis.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Dots on a fitted axis instead of bars from zero.</summary>
    public bool Dots { get; init; }

    /// <summary>Saves the chart of <paramref name="series"/> over <paramref name="categories"/> as <paramref name="path"/> with .png and .svg.</summary>
    public IReadOnlyList<string> Save(string path, IReadOnlyList<string> categories, IReadOnlyList<BarSeries> series)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(series);
        string name = Path.GetFileName(path);
        if (categories.Count == 0 || series.Count == 0) throw new ArgumentException($"{name}: no categories or no series to plot", nameof(series));
        foreach (BarSeries s in series)
        {
            if (s.Values.Count != categories.Count || s.Errors is { } e && e.Count != categories.Count || s.Samples is { } m && m.Count != categories.Count)
                throw new ArgumentException($"{name}: series '{s.Label}' needs one value (and error, and sample list) per category ({categories.Count})", nameof(series));
            if (s.Values.Concat(s.Errors ?? []).Concat(s.Samples?.SelectMany(x => x) ?? []).Any(v => !double.IsFinite(v)) || (s.Errors?.Any(v => v < 0) ?? false))
                throw new ArgumentException($"{name}: series '{s.Label}' holds a non-finite value or a negative error", nameof(series));
        }

        Plot plot = Figure.Create(Title, XLabel, YLabel);
        // Category c spans [c − 0.4, c + 0.4], split evenly among the series.
        double width = 0.8 / series.Count;
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        for (int i = 0; i < series.Count; i++)
        {
            BarSeries s = series[i];
            Color color = Palette(i);
            double[] x = Enumerable.Range(0, categories.Count).Select(c => c - 0.4 + width * (i + 0.5)).ToArray();
            double[] errors = s.Errors?.ToArray() ?? new double[categories.Count];
            if (Dots)
            {
                var marks = plot.Add.Markers(x, s.Values.ToArray(), MarkerShape.FilledCircle, 10, color);
                marks.LegendText = s.Label;
            }
            else
            {
                plot.Add.Bars(x.Select((p, c) => new Bar { Position = p, Value = s.Values[c], Size = width * 0.9, FillColor = color, LineWidth = 0 }).ToList());
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = s.Label, FillColor = color });
            }
            if (s.Errors is not null)
            {
                var bars = plot.Add.ErrorBar(x, s.Values.ToArray(), errors);
                bars.Color = Dots ? color : Colors.Black;
                bars.LineWidth = 1.5f;
            }
            if (s.Samples is not null)
            {
                double[] sx = x.SelectMany((p, c) => s.Samples[c].Select(_ => p + Math.Min(width * 0.25, 0.08))).ToArray();
                plot.Add.Markers(sx, s.Samples.SelectMany(v => v).ToArray(), MarkerShape.OpenCircle, 5, Dots ? color : Colors.Black);
            }
            IEnumerable<double> all = s.Values.Select((v, c) => v - errors[c]).Concat(s.Values.Select((v, c) => v + errors[c])).Concat(s.Samples?.SelectMany(v => v) ?? []);
            low = Math.Min(low, all.Min());
            high = Math.Max(high, all.Max());
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int c = 0; c < categories.Count; c++) ticks.AddMajor(c, categories[c]);
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Grid.XAxisStyle.IsVisible = false;
        if (!Dots) low = Math.Min(low, 0);
        double pad = high > low ? 0.05 * (high - low) : 1;
        plot.Axes.SetLimits(-0.6, categories.Count - 0.4, Dots ? low - pad : low, high + pad);
        if (series.Count > 1) plot.ShowLegend(Edge.Right);
        else plot.HideLegend();
        int labelWidth = Math.Max(0, 9 * categories.Max(c => c.Length) * categories.Count - Figure.Width / 2);
        return Figure.Save(plot, path, Figure.Width + labelWidth + (series.Count > 1 ? 40 + 7 * series.Max(s => s.Label.Length) : 0));
    }

    private static Color Palette(int i) => new ScottPlot.Palettes.Category10().GetColor(i);
}
