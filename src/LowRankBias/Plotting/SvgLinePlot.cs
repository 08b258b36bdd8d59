using System.Globalization;
using System.Text;

namespace LowRankBias.Plotting;

/// <summary>One named line of a <see cref="SvgLinePlot"/>: points (x, y) in drawing order.</summary>
public sealed record PlotSeries(string Name, IReadOnlyList<(double x, double y)> Points);

/// <summary>
/// A minimal dependency-free SVG line plot: several named lines with a legend, axis ticks and labels, and an
/// optional logarithmic y axis (non-positive values are then left out). Write it with <see cref="Render"/>.
/// </summary>
public sealed class SvgLinePlot
{
    private const double Width = 720, Height = 440, Left = 70, Right = 180, Top = 40, Bottom = 50;
    private static readonly string[] s_colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>Title drawn above the plot.</summary>
    public string Title { get; init; } = "";

    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Label of the y axis.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Use a base-10 logarithmic y axis.</summary>
    public bool LogY { get; init; }

    /// <summary>The lines, drawn in order with a cycle of ten colours.</summary>
    public List<PlotSeries> Series { get; } = [];

    /// <summary>The plot as an SVG document.</summary>
    public string Render()
    {
        var points = Series.Select(s => s.Points.Where(p => double.IsFinite(p.x) && double.IsFinite(p.y) && (!LogY || p.y > 0)).ToArray()).ToArray();
        (double x, double y)[] all = points.SelectMany(p => p).ToArray();
        if (all.Length == 0) throw new InvalidOperationException("the plot has no finite points to draw" + (LogY ? " (a log axis needs positive values)" : ""));
        (double x0, double x1) = Range(all.Select(p => p.x));
        (double y0, double y1) = Range(all.Select(p => Y(p.y)));
        if (LogY) (y0, y1) = (Math.Floor(y0), Math.Ceiling(y1 == y0 ? y1 + 1 : y1));
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double Px(double x) => Left + (x - x0) / (x1 - x0) * plotW;
        double Py(double y) => Top + (1 - (Y(y) - y0) / (y1 - y0)) * plotH;

        var svg = new StringBuilder();
        svg.Append(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(F($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n"));
        svg.Append(F($"<text x=\"{Left + plotW / 2}\" y=\"{Top - 15}\" text-anchor=\"middle\" font-size=\"14\">{Escape(Title)}</text>\n"));
        svg.Append(F($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"black\"/>\n"));
        foreach (double t in Ticks(x0, x1))
            svg.Append(F($"<line x1=\"{Px(t)}\" y1=\"{Top + plotH}\" x2=\"{Px(t)}\" y2=\"{Top + plotH + 5}\" stroke=\"black\"/><text x=\"{Px(t)}\" y=\"{Top + plotH + 18}\" text-anchor=\"middle\">{t:G4}</text>\n"));
        foreach (double t in LogY ? Enumerable.Range((int)y0, (int)(y1 - y0) + 1).Select(e => (double)e) : Ticks(y0, y1))
        {
            double py = Top + (1 - (t - y0) / (y1 - y0)) * plotH;
            string label = LogY ? F($"1e{t:0}") : F($"{t:G4}");
            svg.Append(F($"<line x1=\"{Left - 5}\" y1=\"{py}\" x2=\"{Left + plotW}\" y2=\"{py}\" stroke=\"#ddd\"/><text x=\"{Left - 8}\" y=\"{py + 4}\" text-anchor=\"end\">{label}</text>\n"));
        }
        svg.Append(F($"<text x=\"{Left + plotW / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\">{Escape(XLabel)}</text>\n"));
        svg.Append(F($"<text transform=\"translate(16 {Top + plotH / 2}) rotate(-90)\" text-anchor=\"middle\">{Escape(YLabel)}</text>\n"));
        for (int i = 0; i < Series.Count; i++)
        {
            string color = s_colors[i % s_colors.Length];
            string path = string.Join(" ", points[i].Select(p => F($"{Px(p.x):0.##},{Py(p.y):0.##}")));
            svg.Append(F($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{path}\"/>\n"));
            double ly = Top + 10 + 18 * i;
            svg.Append(F($"<line x1=\"{Width - Right + 15}\" y1=\"{ly}\" x2=\"{Width - Right + 40}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"/><text x=\"{Width - Right + 45}\" y=\"{ly + 4}\">{Escape(Series[i].Name)}</text>\n"));
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private double Y(double y) => LogY ? Math.Log10(y) : y;

    private static (double lo, double hi) Range(IEnumerable<double> values)
    {
        double lo = values.Min(), hi = values.Max();
        return lo == hi ? (lo - 0.5, hi + 0.5) : (lo, hi);
    }

    // About five round ticks (1, 2 or 5 times a power of ten) inside [lo, hi].
    private static IEnumerable<double> Ticks(double lo, double hi)
    {
        double raw = (hi - lo) / 5, power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * power).First(s => s >= raw);
        for (double t = Math.Ceiling(lo / step) * step; t <= hi + step * 1e-9; t += step) yield return Math.Abs(t) < step * 1e-9 ? 0 : t;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
