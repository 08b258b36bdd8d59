using System.Xml.Linq;
using LowRankBias.Plotting;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Cli.Tests.Plotting;

public class LineChartTests
{
    private static string[] Labels(string svg) =>
        XDocument.Load(svg).Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()).ToArray();

    [Fact]
    public void ALogAxisWithinADecadeIsLabelledAtEveryMultipleAndFitsTheData()
    {
        using var dir = new TempDirectory();
        var loss = new ChartSeries("loss", [(10, 1.7), (11, 0.9), (12, 0.5), (13, 0.27)]);
        string[] files = new LineChart { Title = "t", XLabel = "step", YLabel = "loss", LogY = true }.Save(Path.Combine(dir.Path, "loss.svg"), [loss]).ToArray();

        Assert.Equal(["loss.png", "loss.svg"], files.Select(Path.GetFileName));
        string[] labels = Labels(files[1]);
        // 0.3 … 1 labelled (the data span 0.27–1.7), nothing past the data: no 0.1 or 2, and no fractional exponents.
        Assert.All(["0.3", "0.5", "0.9", "1"], l => Assert.Contains(l, labels));
        Assert.DoesNotContain("0.1", labels);
        Assert.DoesNotContain("2", labels);
        Assert.DoesNotContain(labels, l => l.Contains("e-0.", StringComparison.Ordinal));
    }

    [Fact]
    public void EverySeriesGetsItsOwnColourPastTen()
    {
        using var dir = new TempDirectory();
        ChartSeries[] series = [.. Enumerable.Range(0, 12).Select(i => new ChartSeries($"s{i}", [(0.0, i), (1.0, i + 0.5)]))];
        string svg = new LineChart { Title = "t", XLabel = "x", YLabel = "y", LogY = false }.Save(Path.Combine(dir.Path, "many.svg"), series)[1];
        // Each series' line and its legend swatch share a colour; axes and text are black.
        string[] colours = [.. System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(svg), "stroke=\"(#[0-9A-Fa-f]{6})\"")
            .Select(m => m.Groups[1].Value.ToUpperInvariant()).Where(c => c != "#010101" && c != "#000000").Distinct()];
        Assert.Equal(12, colours.Length);
    }

    [Fact]
    public void DataSpanningDecadesGetsALogAxisOfDecades()
    {
        using var dir = new TempDirectory();
        var ranks = new ChartSeries("depth 1", [.. Enumerable.Range(0, 6).Select(k => ((double)(1 << k), Math.Pow(10, -k)))]);  // x 1 … 32, y 1 … 1e-5
        string[] labels = Labels(new LineChart { Title = "t", XLabel = "rank", YLabel = "loss" }.Save(Path.Combine(dir.Path, "ranks.svg"), [ranks])[1]);

        Assert.All(["1", "10", "0.1", "0.001", "1e-5"], l => Assert.Contains(l, labels));
        Assert.All(["2", "5", "20"], l => Assert.Contains(l, labels));  // x spans 1.5 decades: 1, 2, 5, 10, 20 labelled
    }

    [Fact]
    public void BandsWidenTheAxisToTheirEdgesAndMustMatchThePoints()
    {
        using var dir = new TempDirectory();
        var line = new ChartSeries("mean", [(0, 50), (1, 50), (2, 50)]) { Spread = [10, 10, 10] };
        string[] labels = Labels(new LineChart { Title = "t", XLabel = "x", YLabel = "y" }.Save(Path.Combine(dir.Path, "band.svg"), [line])[1]);
        // The y axis fits 40–60, the band's edges, not only the line at 50 (alone: 47.5–52.5).
        Assert.All(["40", "60"], l => Assert.Contains(l, labels));

        var mismatched = line with { Spread = [1, 2] };
        Assert.Contains("one finite spread", Assert.Throws<ArgumentException>(() => _ = new LineChart().Save(Path.Combine(dir.Path, "bad.svg"), [mismatched])).Message);
    }

    [Fact]
    public void SeparatePointsWithASpreadGetErrorBarsNotABand()
    {
        using var dir = new TempDirectory();
        var points = new ChartSeries("cells", [(0, 50), (1, 50), (2, 50)]) { Spread = [10, 10, 10], MarkersOnly = true };
        string svg = new LineChart { Title = "t", XLabel = "x", YLabel = "y" }.Save(Path.Combine(dir.Path, "bars.svg"), [points])[1];
        string text = File.ReadAllText(svg);
        Assert.DoesNotContain("fill-opacity", text);  // no band filled between the points
        // One vertical stroke of the series' colour per point, from 40 to 60: the bars, and the axis fits their ends.
        var bars = System.Text.RegularExpressions.Regex.Match(text, "stroke=\"#1F77B4\" stroke-width=\"1.5\"[^>]* d=\"([^\"]+)\"");
        Assert.True(bars.Success, "no error-bar path of the series' colour");
        var verticals = System.Text.RegularExpressions.Regex.Matches(bars.Groups[1].Value, @"M([\d.]+) ([\d.]+)L([\d.]+) ([\d.]+)")
            .Where(m => m.Groups[1].Value == m.Groups[3].Value).ToArray();
        Assert.Equal(3, verticals.Length);
        Assert.All(["40", "60"], l => Assert.Contains(l, Labels(svg)));
    }

    [Fact]
    public void MeanOverRunsIsTheMeanAndSampleStdAtTheStepsEveryRunReached()
    {
        // Three seeds; the third stopped early (no x = 2) and recorded x = 0 twice (the last value counts).
        IReadOnlyList<(double, double)>[] runs =
        [
            [(0, 1), (1, 10), (2, 7)],
            [(0, 3), (1, 20), (2, 9)],
            [(0, 9), (0, 5), (1, 30)],
        ];
        ChartSeries mean = ChartSeries.MeanOverRuns("wd 1", runs);

        Assert.Equal("wd 1 (mean ± std, 3 runs)", mean.Label);
        Assert.Equal([(0.0, 3.0), (1.0, 20.0)], mean.Points);
        // Sample std (n − 1): of {1, 3, 5} = 2, of {10, 20, 30} = 10.
        Assert.Equal([2.0, 10.0], mean.Spread!.Select(v => Math.Round(v, 12)));
        Assert.Contains("share no x", Assert.Throws<ArgumentException>(() => ChartSeries.MeanOverRuns("x", [[(0, 1)], [(1, 1)]])).Message);
    }

    [Fact]
    public void MeanOverRunsLeavesDivergedRunsOutAndSaysHowMany()
    {
        IReadOnlyList<(double, double)>[] runs = [[(1, 2), (2, 4)], [(1, double.NaN), (2, double.NaN)], [(1, 4), (2, 8)]];
        ChartSeries mean = ChartSeries.MeanOverRuns("FC ×4", runs, [false, true, false]);

        Assert.Equal("FC ×4, 1 diverged run left out (mean ± std, 2 runs)", mean.Label);
        Assert.Equal([(1.0, 3.0), (2.0, 6.0)], mean.Points);
        Assert.Equal("x (mean ± std, 3 runs)", ChartSeries.MeanOverRuns("x", runs.Select(r => (IReadOnlyList<(double, double)>)[(1.0, 0.0)]).ToArray(), [false, false, false]).Label);
        Assert.Contains("2 divergence flags for 3 runs", Assert.Throws<ArgumentException>(() => ChartSeries.MeanOverRuns("x", runs, [true, false])).Message);
    }

    [Fact]
    public void AFixedYRangeReplacesTheFittedAxisAndMustBeALinearInterval()
    {
        using var dir = new TempDirectory();
        var accuracy = new ChartSeries("lora", [(0, 31), (1, 32)]);
        string[] fitted = Labels(new LineChart { Title = "t", XLabel = "x", YLabel = "y" }.Save(Path.Combine(dir.Path, "fitted.svg"), [accuracy])[1]);
        string[] fixedRange = Labels(new LineChart { Title = "t", XLabel = "x", YLabel = "y", YRange = (0, 100) }.Save(Path.Combine(dir.Path, "fixed.svg"), [accuracy])[1]);

        Assert.DoesNotContain("100", fitted);                   // fitted: 31–32 fills the height
        Assert.All(["0", "50", "100"], l => Assert.Contains(l, fixedRange));
        Assert.Throws<ArgumentException>(() => _ = new LineChart { YRange = (5, 5) }.Save(Path.Combine(dir.Path, "empty.svg"), [accuracy]));
        Assert.Throws<ArgumentException>(() => _ = new LineChart { YRange = (1, 10), LogY = true }.Save(Path.Combine(dir.Path, "log.svg"), [accuracy]));
    }

    [Fact]
    public void NothingToPlotIsRefused()
    {
        using var dir = new TempDirectory();
        Assert.Throws<ArgumentException>(() => _ = new LineChart().Save(Path.Combine(dir.Path, "x.svg"), [new ChartSeries("nan", [(0, double.NaN)])]));
    }
}
