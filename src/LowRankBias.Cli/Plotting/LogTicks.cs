using System.Globalization;

namespace LowRankBias.Plotting;

/// <summary>
/// Ticks of a log₁₀ axis over [min, max] (in log units): labelled decades, and finer labelled multiples when few decades
/// show; a range within one decade that would show fewer than three labels (1.05–1.9) gets round 1-2-5 steps instead.
/// </summary>
public static class LogTicks
{
    /// <summary>The tick generator for an axis showing log₁₀ values from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static ScottPlot.TickGenerators.NumericManual Generator(double min, double max)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        double span = max - min, margin = 0.05 * Math.Max(span, 0.1);
        int[] labelled = span >= 2 ? [1] : span >= 1 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var positions = new List<(double position, int multiple, int decade)>();
        for (int decade = (int)Math.Floor(min) - 1; decade <= (int)Math.Ceiling(max); decade++)
            for (int m = 1; m <= 9; m++)
            {
                double position = decade + Math.Log10(m);
                if (position >= min - margin && position <= max + margin) positions.Add((position, m, decade));
            }
        if (span < 1 && positions.Count(p => labelled.Contains(p.multiple)) < 3) return RoundSteps(min, max, margin);
        foreach ((double position, int m, int decade) in positions)
            if (labelled.Contains(m)) ticks.AddMajor(position, Label(m * Math.Pow(10, decade)));
            else ticks.AddMinor(position);
        return ticks;
    }

    // About five labelled values a round step (1, 2 or 5 × 10ᵏ) apart, placed at their logarithms.
    private static ScottPlot.TickGenerators.NumericManual RoundSteps(double min, double max, double margin)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        double low = Math.Pow(10, min - margin), high = Math.Pow(10, max + margin);
        double raw = (high - low) / 5, power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(f => f * power).First(f => f >= raw);
        for (double v = Math.Ceiling(low / step) * step; v <= high; v += step)
            ticks.AddMajor(Math.Log10(v), Label(Math.Round(v / step) * step));
        return ticks;
    }

    private static string Label(double value) =>
        value is >= 1e-3 and < 1e5 ? value.ToString("0.###", CultureInfo.InvariantCulture) : value.ToString("0e0", CultureInfo.InvariantCulture);
}
