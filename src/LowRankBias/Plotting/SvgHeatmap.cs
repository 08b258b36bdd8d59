using System.Globalization;
using System.Security;
using System.Text;

namespace LowRankBias.Plotting;

/// <summary>
/// A dependency-free heatmap written as a standalone SVG document: one cell per (row, column) coloured on a
/// perceptually ordered scale (dark blue → green → yellow), row labels on the left, a few column labels below and a
/// colour bar. Non-finite values are drawn grey. Cells carry <c>class="cell"</c> and a tooltip with their value.
/// </summary>
public sealed record SvgHeatmap
{
    private static readonly (double at, int r, int g, int b)[] s_scale =
        [(0, 68, 1, 84), (0.25, 59, 82, 139), (0.5, 33, 145, 140), (0.75, 94, 201, 98), (1, 253, 231, 37)];

    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";

    /// <summary>Label of the horizontal axis.</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Label of the colour bar.</summary>
    public string ValueLabel { get; init; } = "";

    /// <summary>Value drawn darkest; default the smallest finite value.</summary>
    public double? Min { get; init; }

    /// <summary>Value drawn brightest; default the largest finite value.</summary>
    public double? Max { get; init; }

    /// <summary>Renders <paramref name="values"/> [rows, columns] with the given row and column labels.</summary>
    public string Render(IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, double[,] values)
    {
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(columnLabels);
        ArgumentNullException.ThrowIfNull(values);
        int rows = values.GetLength(0), columns = values.GetLength(1);
        if (rows == 0 || columns == 0) throw new ArgumentException("a heatmap needs at least one row and one column", nameof(values));
        if (rowLabels.Count != rows || columnLabels.Count != columns)
            throw new ArgumentException($"{rowLabels.Count} row and {columnLabels.Count} column labels for a {rows}×{columns} grid");
        double[] finite = values.Cast<double>().Where(double.IsFinite).ToArray();
        double lo = Min ?? (finite.Length > 0 ? finite.Min() : 0), hi = Max ?? (finite.Length > 0 ? finite.Max() : 1);
        if (!(hi > lo)) hi = lo + 1;

        int labelWidth = 8 + 7 * Math.Min(40, rowLabels.Max(l => l.Length));
        double cellW = Math.Clamp(640.0 / columns, 2, 40), cellH = Math.Clamp(480.0 / rows, 4, 24);
        double left = labelWidth, top = 40, plotW = cellW * columns, plotH = cellH * rows;
        double width = Math.Max(left + plotW + 110, 20 + 7.5 * Title.Length), height = top + plotH + 60; // room for the title
        var svg = new StringBuilder();
        Append(svg, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:F0}\" height=\"{height:F0}\" font-family=\"sans-serif\" font-size=\"11\">");
        Append(svg, $"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        Append(svg, $"<text x=\"{width / 2:F1}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{Escape(Title)}</text>");
        for (int r = 0; r < rows; r++)
        {
            string label = rowLabels[r].Length > 40 ? "…" + rowLabels[r][^39..] : rowLabels[r];
            Append(svg, $"<text x=\"{left - 4:F1}\" y=\"{top + (r + 0.5) * cellH + 4:F1}\" text-anchor=\"end\" font-size=\"{Math.Min(11, cellH):F0}\">{Escape(label)}</text>");
            for (int c = 0; c < columns; c++)
            {
                double v = values[r, c];
                Append(svg, $"<rect class=\"cell\" x=\"{left + c * cellW:F2}\" y=\"{top + r * cellH:F2}\" width=\"{cellW:F2}\" height=\"{cellH:F2}\" fill=\"{Colour(v, lo, hi)}\"><title>{Escape(rowLabels[r])} @ {Escape(columnLabels[c])}: {v.ToString("G4", CultureInfo.InvariantCulture)}</title></rect>");
            }
        }
        int ticks = Math.Min(columns, 6);
        for (int t = 0; t < ticks; t++)
        {
            int c = ticks == 1 ? 0 : (int)Math.Round(t * (columns - 1) / (double)(ticks - 1));
            Append(svg, $"<text x=\"{left + (c + 0.5) * cellW:F1}\" y=\"{top + plotH + 16:F1}\" text-anchor=\"middle\">{Escape(columnLabels[c])}</text>");
        }
        Append(svg, $"<text x=\"{left + plotW / 2:F1}\" y=\"{top + plotH + 40:F1}\" text-anchor=\"middle\">{Escape(XLabel)}</text>");
        double barX = left + plotW + 20, barH = Math.Min(plotH, 240);
        for (int i = 0; i < 50; i++)
            Append(svg, $"<rect x=\"{barX:F1}\" y=\"{top + barH * (49 - i) / 50:F2}\" width=\"14\" height=\"{barH / 50 + 0.5:F2}\" fill=\"{Colour(lo + (hi - lo) * i / 49, lo, hi)}\"/>");
        Append(svg, $"<text x=\"{barX + 18:F1}\" y=\"{top + 8:F1}\">{hi.ToString("G3", CultureInfo.InvariantCulture)}</text>");
        Append(svg, $"<text x=\"{barX + 18:F1}\" y=\"{top + barH:F1}\">{lo.ToString("G3", CultureInfo.InvariantCulture)}</text>");
        Append(svg, $"<text transform=\"translate({barX + 60:F1},{top + barH / 2:F1}) rotate(90)\" text-anchor=\"middle\">{Escape(ValueLabel)}</text>");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Colour(double v, double lo, double hi)
    {
        if (!double.IsFinite(v)) return "#bbbbbb";
        double t = Math.Clamp((v - lo) / (hi - lo), 0, 1);
        int k = 0;
        while (k < s_scale.Length - 2 && t > s_scale[k + 1].at) k++;
        (double a, int r0, int g0, int b0) = s_scale[k];
        (double b, int r1, int g1, int b1) = s_scale[k + 1];
        double f = (t - a) / (b - a);
        return $"#{(int)Math.Round(r0 + f * (r1 - r0)):x2}{(int)Math.Round(g0 + f * (g1 - g0)):x2}{(int)Math.Round(b0 + f * (b1 - b0)):x2}";
    }

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";

    private static void Append(StringBuilder svg, FormattableString line) => svg.AppendLine(line.ToString(CultureInfo.InvariantCulture));
}
