using System.Xml.Linq;
using LowRankBias.Plotting;

namespace LowRankBias.Tests.Plotting;

public sealed class SvgLineChartTests
{
    private static readonly XNamespace s_svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void Renders_one_polyline_per_series_with_escaped_labels()
    {
        var chart = new SvgLineChart { Title = "a < b & c", XLabel = "x", YLabel = "y" };
        XDocument doc = XDocument.Parse(chart.Render([
            new ChartSeries("first", [(0, 0), (1, 1), (2, 4)]),
            new ChartSeries("second", [(0, 1), (2, double.NaN)]),
        ]));
        XElement[] lines = doc.Descendants(s_svg + "polyline").ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Equal(3, lines[0].Attribute("points")!.Value.Split(' ').Length);
        Assert.Single(lines[1].Attribute("points")!.Value.Split(' '));
        Assert.Contains(doc.Descendants(s_svg + "text"), t => t.Value == "a < b & c");
    }

    [Fact]
    public void Log_axis_places_points_by_their_logarithm_and_skips_non_positive_ones()
    {
        var chart = new SvgLineChart { LogY = true };
        XDocument doc = XDocument.Parse(chart.Render([new ChartSeries("s", [(0, 1e-4), (1, 1e-2), (2, 1), (3, 0)])]));
        double[] ys = doc.Descendants(s_svg + "circle").Select(c => double.Parse(c.Attribute("cy")!.Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(3, ys.Length);
        // Equal steps in log10 give equal steps on screen.
        Assert.Equal(ys[0] - ys[1], ys[1] - ys[2], 1);
        Assert.Throws<ArgumentException>(() => chart.Render([new ChartSeries("s", [(0, 0)])]));
    }

    [Fact]
    public void Log_axis_ticks_are_whole_decades_written_out_when_short()
    {
        var chart = new SvgLineChart { LogY = true };
        string[] Labels(params double[] ys) => XDocument.Parse(chart.Render([new ChartSeries("s", ys.Select((y, i) => (100.0 + 100 * i, y)).ToArray())]))
            .Descendants(s_svg + "text").Select(t => t.Value).Where(l => l.Length > 0).ToArray();
        // 0.5 … 2 lies within the decades 0.1 … 10; 2e-6 … 1 spans six decades, which are written as powers.
        Assert.Equal(["0.1", "1", "10"], Labels(0.5, 2).Where(l => l is "0.1" or "1" or "10"));
        Assert.Equal(["1e-6", "1e-5", "1e-4"], Labels(2e-6, 1).Where(l => l.StartsWith("1e-", StringComparison.Ordinal)).Take(3));
        Assert.Contains("1e0", Labels(2e-6, 1));
    }

    [Fact]
    public void Linear_axes_get_round_ticks_that_enclose_the_data()
    {
        XDocument doc = XDocument.Parse(new SvgLineChart().Render([new ChartSeries("s", [(0, 0.72), (12_000, 0.99)])]));
        string[] labels = doc.Descendants(s_svg + "text").Select(t => t.Value).ToArray();
        Assert.Equal(["0", "5,000", "10,000", "15,000"], labels.Where(l => l.Contains(',') || l == "0").ToArray());
        Assert.Equal(["0.7", "0.8", "0.9", "1"], labels.Where(l => l.StartsWith("0.") || l == "1").ToArray());
    }
}
