using System.Xml.Linq;
using LowRankBias.Tool.Analysis;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Tool.Tests;

/// <summary>The ESD plot of `lowrankbias analyze`: its histogram is a density (closed form: the bars integrate to the
/// share of positive eigenvalues), and the figure names every layer of the drawing in a legend and its log axes.</summary>
public class EsdPlotTests
{
    [Fact]
    public void TheHistogramIntegratesToTheShareOfPositiveValues()
    {
        double[] values = [0, 0, 1e-3, 2e-3, 0.5, 1, 3, 10, 10, 40];
        double[] edges = EsdPlot.Edges(Math.Log10(1e-3), Math.Log10(40), 12);
        double[] density = EsdPlot.Histogram(values, edges);
        double area = density.Select((d, i) => d * (Math.Pow(10, edges[i + 1]) - Math.Pow(10, edges[i]))).Sum();
        Assert.Equal(0.8, area, 12);
        // The top bin, 10^1.22 ≈ 16.5 to 40, holds only 40: one value of ten over its width.
        Assert.Equal(1 / (10 * (40 - Math.Pow(10, edges[^2]))), density[^1], 12);
    }

    [Fact]
    public void ThePlotShowsTheEsdTheRandomizedEsdThePowerLawAndTheBulkWithLabelledLogAxes()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var random = new Random(3);
        Tensor w = tensor(Enumerable.Range(0, 200 * 100).Select(_ => random.NextDouble() - 0.5).ToArray(), [200, 100]);
        Esd esd = Esd.Of(w, "dense.weight");
        double[] shuffled = Esd.Randomized(w, 1, new Random(1));
        LayerMetrics layer = LayerMetrics.Of(0, "dense.weight", [200, 100], esd, (shuffled, shuffled));
        string[] files = [.. EsdPlot.Save(Path.Combine(dir.Path, "esd"), layer, esd.Eigenvalues, shuffled)];
        Assert.Equal(["esd.png", "esd.svg"], files.Select(Path.GetFileName));
        string[] text = [.. XDocument.Load(files[1]).Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim())];
        Assert.Contains("ESD (100 eigenvalues)", text);
        Assert.Contains("randomized ESD (shuffled W)", text);
        Assert.Contains(text, t => t.StartsWith("power law α = ", StringComparison.Ordinal));
        Assert.Contains(text, t => t.StartsWith("x_min = ", StringComparison.Ordinal));
        Assert.Contains(text, t => t.StartsWith("MP bulk (λ+ = ", StringComparison.Ordinal));
        Assert.Contains("eigenvalue λ of WᵀW (log scale)", text);
        Assert.Contains("density (log scale)", text);
    }
}
