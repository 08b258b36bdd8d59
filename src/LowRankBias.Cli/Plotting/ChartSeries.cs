namespace LowRankBias.Plotting;

/// <summary>
/// One line of a <see cref="LineChart"/>: a legend label and its (x, y) points, drawn in the given order; with
/// <see cref="Spread"/>, a shaded band from y − spread to y + spread around the line (e.g. ± one standard deviation over seeds).
/// </summary>
public sealed record ChartSeries(string Label, IReadOnlyList<(double X, double Y)> Points)
{
    /// <summary>Half-width of the band at each point (one per point, ≥ 0), or null for a plain line.</summary>
    public IReadOnlyList<double>? Spread { get; init; }
}
