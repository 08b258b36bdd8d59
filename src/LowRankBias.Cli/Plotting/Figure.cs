using ScottPlot;

namespace LowRankBias.Plotting;

/// <summary>
/// What every figure shares: one explicit sans font (DejaVu Sans, from fonts-dejavu-core, or the file LRB_PLOT_FONT
/// names) — a chart without readable text is worse than none, so a missing font is an error, not a fallback — a white
/// background, major and minor grid lines, and saving as PNG and SVG side by side.
/// </summary>
public static class Figure
{
    /// <summary>Size of every figure in pixels (PNG) and points (SVG).</summary>
    public const int Width = 800, Height = 520;
    private const string FontName = "DejaVu Sans";
    private static readonly Lazy<string> s_font = new(LoadFont);

    /// <summary>A plot with the figures' font, title, axis labels and grid.</summary>
    public static Plot Create(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set(s_font.Value);
        plot.Title(title, size: 15);
        plot.XLabel(xLabel, size: 13);
        plot.YLabel(yLabel, size: 13);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.15);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(0.05);
        plot.Grid.MinorLineWidth = 1;
        return plot;
    }

    /// <summary>Saves <paramref name="plot"/> as <paramref name="path"/>'s name with .png and with .svg; returns both paths.</summary>
    public static IReadOnlyList<string> Save(Plot plot, string path, int width = Width, int height = Height)
    {
        string png = Path.ChangeExtension(path, ".png"), svg = Path.ChangeExtension(path, ".svg");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(png))!);
        LowRankBias.Cli.OutputFile.WriteAllBytes(png, plot.GetImageBytes(width, height, ImageFormat.Png));
        LowRankBias.Cli.OutputFile.WriteAllText(svg, plot.GetSvgXml(width, height));
        return [png, svg];
    }

    private static string LoadFont()
    {
        string[] candidates =
        [
            Environment.GetEnvironmentVariable("LRB_PLOT_FONT") ?? "",
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
        ];
        string file = candidates.FirstOrDefault(f => f.Length > 0 && File.Exists(f))
            ?? throw new FileNotFoundException($"no {FontName} font for the figures (looked in {string.Join(", ", candidates.Skip(1))}): " +
                                               "install fonts-dejavu-core (scripts/setup.sh) or set LRB_PLOT_FONT to a .ttf file");
        Fonts.AddFontFile(FontName, file);
        return FontName;
    }
}
