using System.Xml.Linq;
using LowRankBias.Plotting;
using LowRankBias.Spectral;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Cli.Tests.Plotting;

/// <summary>Yunis et al.'s figures from <see cref="SpectralMonitor"/> records, here made by hand with known values.</summary>
public sealed class SpectralPlotsTests
{
    // Layers fc1 (σ = 3, 2, 1), fc2 (8 singular values), head; fc2 flattens over the records, so it changes most.
    private static SpectralRecord Record(long step)
    {
        LayerSpectrumRecord Layer(string name, params double[] sigma) =>
            LayerSpectrumRecord.Of(name, MatrixSpectrum.FromSingularValues(sigma, name, [sigma.Length, sigma.Length]), top: 10);
        double decay = 1.0 / (1 + step);
        DiagonalRecord Diagonal(string name) => new(name, 0.5, [1, 0.5, 0.25, 0.125]);
        return new SpectralRecord(step,
            [Layer("fc1", 3, 2, 1), Layer("fc2", Enumerable.Range(0, 8).Select(i => Math.Pow(decay, i)).ToArray()), Layer("head", 1, 1)],
            [Diagonal("fc1 → fc2"), Diagonal("fc2 → head")], step == 0 ? [] : [Diagonal("fc1"), Diagonal("fc2"), Diagonal("head")]);
    }

    private static readonly SpectralRecord[] Records = [.. Enumerable.Range(0, 4).Select(s => Record(s))];

    private static string Text(string svg) =>
        string.Concat(XDocument.Load(svg).Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim() + "\n"));

    [Fact]
    public void PlotsArePngAndWellFormedSvgNamingEveryLayer()
    {
        using var dir = new TempDirectory();
        IReadOnlyList<string> files = SpectralPlots.WriteAll(Records, Path.Combine(dir.Path, "plots"));

        string[] names = ["effective-rank", "singular-values", "alignment", "agreement"];
        Assert.Equal(names.SelectMany(n => new[] { n + ".png", n + ".svg" }), files.Select(Path.GetFileName));
        Assert.All(files.Where(f => f.EndsWith(".png", StringComparison.Ordinal)), f => Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(f)[..4]));
        Assert.All(["fc1", "fc2", "head"], layer => Assert.Contains(layer + "\n", Text(files[1]))); // the heatmap's rows, one per layer
        // The layer shown by default is the one whose effective rank changed most: fc2, whose 8 values are in the legend.
        Assert.Contains("Singular values of fc2", Text(files[3]));
        Assert.All(Enumerable.Range(1, 8), i => Assert.Contains($"σ{i}\n", Text(files[3])));
    }

    [Fact]
    public void ADiagonalHasOneRowPerEntryAndUnknownNamesAreRefused()
    {
        using var dir = new TempDirectory();
        string text = Text(SpectralPlots.AlignmentDiagonal(Records, "fc1 → fc2", Path.Combine(dir.Path, "diagonal.svg"))[1]);
        Assert.All(["1", "2", "3", "4"], i => Assert.Contains("\n" + i + "\n", text));
        Assert.Contains("'fc2 → fc1'", Assert.Throws<ArgumentException>(() => SpectralPlots.AlignmentDiagonal(Records, "fc2 → fc1", Path.Combine(dir.Path, "none.svg"))).Message);
        Assert.Throws<ArgumentException>(() => SpectralPlots.SingularValues([], "fc1", Path.Combine(dir.Path, "none.svg")));
        Assert.Throws<ArgumentException>(() => SpectralPlots.SingularValues(Records, "fc9", Path.Combine(dir.Path, "none.svg")));
    }
}
