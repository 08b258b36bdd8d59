namespace LowRankBias.Plotting;

/// <summary>One line of a <see cref="LineChart"/>: a legend label and its (x, y) points, drawn in the given order.</summary>
public sealed record ChartSeries(string Label, IReadOnlyList<(double X, double Y)> Points);
