using System.Globalization;
using System.Xml.Linq;
using LowRankBias.Plotting;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Cli.Tests.Plotting;

public class HeatmapTests
{
    private static double[] NumericLabels(string svg) =>
        XDocument.Load(svg).Descendants().Where(e => e.Name.LocalName == "text")
            .Select(e => double.TryParse(e.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN)
            .Where(double.IsFinite).ToArray();

    [Fact]
    public void TheColourScaleSpansTheFiniteDataUnlessFixed()
    {
        using var dir = new TempDirectory();
        // Scores between 0.76 and 0.85 (one missing cell): on a 0–1 scale they would share one colour.
        double[,] values = { { 0.76, 0.80 }, { 0.85, double.NaN } };
        string[] rows = ["a", "b"], columns = ["1", "2"];
        double[] ticks = NumericLabels(new Heatmap { Title = "t", ValueLabel = "score" }.Save(Path.Combine(dir.Path, "data.svg"), rows, columns, values)[1]);
        double[] fixedTicks = NumericLabels(new Heatmap { Title = "t", ValueLabel = "score", Min = 0, Max = 1 }.Save(Path.Combine(dir.Path, "fixed.svg"), rows, columns, values)[1]);

        // The colour bar's ticks lie within the data (0.76–0.85), several of them; fixed, they run 0 … 1.
        double[] barTicks = ticks.Where(v => v is > 0.7 and < 0.9).ToArray();
        Assert.True(barTicks.Length >= 3, $"colour-bar ticks: {string.Join(", ", ticks)}");
        Assert.DoesNotContain(ticks, v => v is > 0 and < 0.7);
        Assert.Contains(fixedTicks, v => v is > 0 and < 0.5);
    }
}
