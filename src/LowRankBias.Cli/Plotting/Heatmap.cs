using ScottPlot;

namespace LowRankBias.Plotting;

/// <summary>A heatmap of a rows × columns table (row 0 at the top) with a colour bar, saved as PNG and SVG; NaN cells are grey.</summary>
public sealed record Heatmap
{
    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";
    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; init; } = "";
    /// <summary>Label of the y axis.</summary>
    public string YLabel { get; init; } = "";
    /// <summary>Label of the colour bar.</summary>
    public string ValueLabel { get; init; } = "";
    /// <summary>Lower end of the colour range; null: the data's (the default, so that differences within a narrow range stay visible).</summary>
    public double? Min { get; init; }
    /// <summary>Upper end of the colour range; null: the data's.</summary>
    public double? Max { get; init; }

    /// <summary>Saves the heatmap of <paramref name="values"/> [row, column] as <paramref name="path"/> with .png and .svg.</summary>
    public IReadOnlyList<string> Save(string path, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, double[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int rows = values.GetLength(0), columns = values.GetLength(1);
        if (rows == 0 || columns == 0 || rowLabels.Count != rows || columnLabels.Count != columns)
            throw new ArgumentException($"{Path.GetFileName(path)}: {rows} × {columns} values for {rowLabels.Count} row and {columnLabels.Count} column labels");
        Plot plot = Figure.Create(Title, XLabel, YLabel);
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.NaNCellColor = Colors.LightGray;
        // Cell (r, c) is centred on (c, rows − 1 − r): row 0 on top, as in a table.
        // Set explicitly even for the data's range, which must ignore the NaN cells.
        var finite = values.Cast<double>().Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        double low = Min ?? finite.Min(), high = Max ?? finite.Max();
        heatmap.ManualRange = new ScottPlot.Range(low, high > low ? high : low + 1);
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = ValueLabel;
        // ScottPlot's automatic layout puts the colour bar's title against its widest tick label (they touched): the
        // title moves right by a gap, and a fixed padding leaves the room for it that the layout would not.
        colorBar.LabelStyle.OffsetX = ColorBarTitleGap;

        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        // At most ~8 labels, a round number of columns apart (records are evenly spaced, so the labels are round too),
        // and the last column always labelled, replacing a regular tick too close to it.
        int every = RoundStep(columns / 8.0);
        var tickColumns = Enumerable.Range(0, (columns - 1) / every + 1).Select(i => i * every).ToList();
        if (tickColumns[^1] != columns - 1)
        {
            if (tickColumns.Count > 1 && columns - 1 - tickColumns[^1] < 0.6 * every) tickColumns.RemoveAt(tickColumns.Count - 1);
            tickColumns.Add(columns - 1);
        }
        foreach (int c in tickColumns) xTicks.AddMajor(c, columnLabels[c]);
        plot.Axes.Bottom.TickGenerator = xTicks;
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        int rowEvery = Math.Max(1, (int)Math.Ceiling(rows / (double)MaxRowLabels)); // every row named up to MaxRowLabels rows
        for (int r = 0; r < rows; r += rowEvery) yTicks.AddMajor(rows - 1 - r, rowLabels[r]);
        plot.Axes.Left.TickGenerator = yTicks;
        plot.Grid.IsVisible = false;
        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        int labelWidth = 7 * rowLabels.Max(l => l.Length);
        plot.Layout.Fixed(new PixelPadding(left: labelWidth + 50, right: 110 + ColorBarTitleGap, bottom: 55, top: 40));
        return Figure.Save(plot, path, Figure.Width + labelWidth + ColorBarTitleGap, Math.Max(Figure.Height, 120 + 16 * Math.Min(rows, MaxRowLabels)));
    }

    private const int MaxRowLabels = 60, ColorBarTitleGap = 14;

    // The smallest of 1, 2, 5, 10, 20, 50, 100, … that is at least `raw`.
    private static int RoundStep(double raw)
    {
        for (int power = 1; ; power *= 10)
            foreach (int f in new[] { 1, 2, 5, 10 })
                if (f * power >= raw) return f * power;
    }
}
