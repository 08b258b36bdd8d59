using System.Globalization;
using System.Security;
using System.Text;

namespace LowRankBias.Plotting;

/// <summary>One line of a <see cref="SvgLineChart"/>: a legend label and its (x, y) points, drawn in the given order.</summary>
public sealed record ChartSeries(string Label, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// A dependency-free line chart written as a standalone SVG document, for experiment outputs: linear axes with round
/// ticks (1, 2, 2.5 or 5 × 10ᵏ apart), an optional log₁₀ y axis, one coloured polyline with markers per series and a
/// legend as wide and tall as its labels need. Non-finite points (and non-positive ones on a log axis) are skipped.
/// </summary>
public sealed record SvgLineChart
{
    private static readonly string[] s_palette =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    private const double PlotWidth = 420, PlotHeight = 325, Left = 70, Top = 40, Bottom = 55, LegendRow = 18, CharWidth = 6.8;

    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";

    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Label of the y axis.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Plot y on a log₁₀ scale.</summary>
    public bool LogY { get; init; }

    /// <summary>Renders <paramref name="series"/> as an SVG document.</summary>
    public string Render(IReadOnlyList<ChartSeries> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var points = series.Select(s => s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!LogY || p.Y > 0))
            .Select(p => (p.X, Y: LogY ? Math.Log10(p.Y) : p.Y)).ToArray()).ToArray();
        var all = points.SelectMany(p => p).ToArray();
        if (all.Length == 0) throw new ArgumentException("no finite points to plot", nameof(series));
        double[] xTicks = NiceTicks(Range(all.Select(p => p.X)));
        double[] yTicks = LogY ? DecadeTicks(Range(all.Select(p => p.Y))) : NiceTicks(Range(all.Select(p => p.Y)));
        (double x0, double x1, double y0, double y1) = (xTicks[0], xTicks[^1], yTicks[0], yTicks[^1]);
        double plotW = PlotWidth, plotH = PlotHeight;
        double right = 50 + CharWidth * series.Select(s => s.Label.Length).DefaultIfEmpty(0).Max();
        double width = Left + plotW + right, height = Math.Max(Top + plotH + Bottom, Top + 20 + LegendRow * series.Count);
        double Px(double x) => Left + (x - x0) / (x1 - x0) * plotW;
        double Py(double y) => Top + (1 - (y - y0) / (y1 - y0)) * plotH;

        var svg = new StringBuilder();
        Append(svg, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        Append(svg, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        Append(svg, $"<text x=\"{Left + plotW / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{Escape(Title)}</text>");
        Append(svg, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"black\"/>");
        foreach (double x in xTicks) Append(svg, $"<text x=\"{Px(x)}\" y=\"{Top + plotH + 16}\" text-anchor=\"middle\">{Tick(x)}</text>");
        // Decades are written out (0.001 … 1000) when all of them can be, else all as 1e-6.
        bool plainDecades = yTicks.All(y => Math.Abs(y) <= 3);
        foreach (double y in yTicks)
        {
            string label = !LogY ? Tick(y) : plainDecades ? Tick(Math.Pow(10, y)) : Invariant($"1e{y:0}");
            Append(svg, $"<line x1=\"{Left}\" x2=\"{Left + plotW}\" y1=\"{Py(y)}\" y2=\"{Py(y)}\" stroke=\"#ddd\"/>");
            Append(svg, $"<text x=\"{Left - 6}\" y=\"{Py(y) + 4}\" text-anchor=\"end\">{label}</text>");
        }
        Append(svg, $"<text x=\"{Left + plotW / 2}\" y=\"{Top + plotH + 40}\" text-anchor=\"middle\">{Escape(XLabel)}</text>");
        Append(svg, $"<text transform=\"translate(16,{Top + plotH / 2}) rotate(-90)\" text-anchor=\"middle\">{Escape(YLabel)}</text>");
        for (int s = 0; s < series.Count; s++)
        {
            string colour = s_palette[s % s_palette.Length];
            string path = string.Join(" ", points[s].Select(p => Invariant($"{Px(p.X):F1},{Py(p.Y):F1}")));
            Append(svg, $"<polyline points=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\"/>");
            foreach ((double x, double y) in points[s]) Append(svg, $"<circle cx=\"{Px(x):F1}\" cy=\"{Py(y):F1}\" r=\"2.5\" fill=\"{colour}\"/>");
            double ly = Top + 10 + LegendRow * s;
            Append(svg, $"<line x1=\"{Left + plotW + 12}\" x2=\"{Left + plotW + 32}\" y1=\"{ly}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\"/>");
            Append(svg, $"<text x=\"{Left + plotW + 38}\" y=\"{ly + 4}\">{Escape(series[s].Label)}</text>");
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    // About five ticks a round step apart, the first at or below the data and the last at or above it.
    private static double[] NiceTicks((double lo, double hi) range)
    {
        double raw = (range.hi - range.lo) / 4, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw * (1 - 1e-9));
        double first = Math.Floor(range.lo / step + 1e-9) * step, last = Math.Ceiling(range.hi / step - 1e-9) * step;
        int count = (int)Math.Round((last - first) / step);
        return Enumerable.Range(0, count + 1).Select(i => Math.Round((first + i * step) / step) * step).ToArray();
    }

    // A log axis (values are log₁₀) spans whole decades, one tick per decade or per few when there are many.
    private static double[] DecadeTicks((double lo, double hi) range)
    {
        double first = Math.Floor(range.lo + 1e-9), last = Math.Max(Math.Ceiling(range.hi - 1e-9), first + 1);
        int step = (int)Math.Ceiling((last - first) / 6);
        last = first + step * Math.Ceiling((last - first) / step);
        return Enumerable.Range(0, (int)((last - first) / step) + 1).Select(i => first + i * step).ToArray();
    }

    private static (double, double) Range(IEnumerable<double> values)
    {
        double lo = values.Min(), hi = values.Max();
        if (hi > lo) return (lo, hi);
        double pad = lo == 0 ? 1 : Math.Abs(lo) * 0.1;
        return (lo - pad, hi + pad);
    }

    // Thousands to millions with digit grouping (39,936 rather than 3.99E+04), anything else in three digits.
    private static string Tick(double v) =>
        Math.Abs(v) is >= 1000 and < 1e7 ? v.ToString("#,0", CultureInfo.InvariantCulture) : v.ToString("G3", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static void Append(StringBuilder svg, FormattableString line) => svg.AppendLine(Invariant(line));
}
