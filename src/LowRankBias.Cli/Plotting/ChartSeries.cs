using LowRankBias.Statistics;

namespace LowRankBias.Plotting;

/// <summary>
/// One line of a <see cref="LineChart"/>: a legend label and its (x, y) points, drawn in the given order; with
/// <see cref="Spread"/>, a shaded band from y − spread to y + spread around the line (e.g. ± one standard deviation over seeds).
/// </summary>
public sealed record ChartSeries(string Label, IReadOnlyList<(double X, double Y)> Points)
{
    /// <summary>Half-width of the band at each point (one per point, ≥ 0), or null for a plain line.</summary>
    public IReadOnlyList<double>? Spread { get; init; }

    /// <summary>
    /// Draws the points as markers without a connecting line: points that are not a trajectory (runs that all end at one
    /// budget) or that must not look like one (a diverged run's outcome).
    /// </summary>
    public bool MarkersOnly { get; init; }

    /// <summary>
    /// Mean ± sample standard deviation over <paramref name="runs"/> (e.g. one per seed) at each x that every run
    /// recorded, in increasing x; x values only some runs reached (a run stopped early) are left out rather than
    /// averaged over fewer runs. The label gets the number of runs appended.
    /// </summary>
    public static ChartSeries MeanOverRuns(string label, IReadOnlyList<IReadOnlyList<(double X, double Y)>> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0) throw new ArgumentException($"series '{label}': no runs to average", nameof(runs));
        var byX = runs.Select(r => r.GroupBy(p => p.X).ToDictionary(g => g.Key, g => g.Last().Y)).ToArray();
        double[] shared = byX.Skip(1).Aggregate((IEnumerable<double>)byX[0].Keys, (xs, run) => xs.Intersect(run.Keys)).Order().ToArray();
        if (shared.Length == 0) throw new ArgumentException($"series '{label}': the {runs.Count} runs share no x value", nameof(runs));
        double[][] ys = shared.Select(x => byX.Select(run => run[x]).ToArray()).ToArray();
        return new ChartSeries($"{label} (mean ± std, {runs.Count} runs)", shared.Zip(ys, (x, y) => (x, y.Average())).ToArray())
        {
            Spread = ys.Select(y => SeedSpread.Std(y)).ToArray(),
        };
    }

    /// <summary>
    /// <see cref="MeanOverRuns(string, IReadOnlyList{IReadOnlyList{ValueTuple{double, double}}})"/> over the runs that did
    /// not diverge (one flag per run): a run whose loss went NaN has no place in a mean, and the label says how many were
    /// left out.
    /// </summary>
    public static ChartSeries MeanOverRuns(string label, IReadOnlyList<IReadOnlyList<(double X, double Y)>> runs, IReadOnlyList<bool> diverged)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(diverged);
        if (diverged.Count != runs.Count) throw new ArgumentException($"series '{label}': {diverged.Count} divergence flags for {runs.Count} runs", nameof(diverged));
        int left = diverged.Count(d => d);
        return MeanOverRuns(left == 0 ? label : $"{label}, {left} diverged run{(left > 1 ? "s" : "")} left out",
            [.. runs.Where((_, i) => !diverged[i])]);
    }
}
