using System.Xml.Linq;
using LowRankBias.Plotting;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Cli.Tests.Plotting;

public class BarChartTests
{
    private static string[] Labels(string svg) =>
        XDocument.Load(svg).Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()).ToArray();

    [Fact]
    public void GroupedBarsNameEveryCategoryAndSeriesAndStartAtZero()
    {
        using var dir = new TempDirectory();
        BarSeries[] series =
        [
            new("classes 0–4", [90, 40]) { Errors = [2, 3], Samples = [[88, 92], [37, 43]] },
            new("classes 5–9", [30, 85]),
        ];
        string[] files = new BarChart { Title = "t", XLabel = "model", YLabel = "accuracy (%)" }.Save(Path.Combine(dir.Path, "bars.svg"), ["first", "second"], series).ToArray();

        Assert.Equal(["bars.png", "bars.svg"], files.Select(Path.GetFileName));
        string[] labels = Labels(files[1]);
        Assert.All(["first", "second", "classes 0–4", "classes 5–9", "0"], l => Assert.Contains(l, labels));
    }

    [Fact]
    public void DotsFitTheAxisToTheValuesAndErrors()
    {
        using var dir = new TempDirectory();
        var series = new BarSeries("final", [80, 82]) { Errors = [1, 1] };
        string[] labels = Labels(new BarChart { Dots = true }.Save(Path.Combine(dir.Path, "dots.svg"), ["lora", "dora"], [series])[1]);
        Assert.Contains("80", labels);
        Assert.DoesNotContain("0", labels);  // no axis down to zero
    }

    [Fact]
    public void ValuesThatDoNotMatchTheCategoriesAreRefused()
    {
        using var dir = new TempDirectory();
        var chart = new BarChart();
        Assert.Throws<ArgumentException>(() => _ = chart.Save(Path.Combine(dir.Path, "a.svg"), ["a", "b"], [new BarSeries("s", [1])]));
        Assert.Throws<ArgumentException>(() => _ = chart.Save(Path.Combine(dir.Path, "b.svg"), ["a"], [new BarSeries("s", [1]) { Errors = [-1] }]));
        Assert.Throws<ArgumentException>(() => _ = chart.Save(Path.Combine(dir.Path, "c.svg"), ["a"], [new BarSeries("s", [double.NaN])]));
    }
}
