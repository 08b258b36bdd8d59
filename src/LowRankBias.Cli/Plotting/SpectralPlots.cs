using System.Globalization;
using LowRankBias.Spectral;

namespace LowRankBias.Plotting;

/// <summary>
/// The figures of Yunis et al. from <see cref="SpectralMonitor"/> records: a layer × time heatmap of normalised effective
/// rank (figure 3, bottom), one matrix's singular values over time (figure 3, top), consecutive-layer alignment over
/// time (figure 5) and agreement with the previous record (figure 9), the last two as heatmaps of their scores.
/// Each figure is saved as PNG and SVG at the path given (its extension is replaced).
/// </summary>
public static class SpectralPlots
{
    // The colour scales span the data, not the scores' possible [0, 1]: on a fixed scale a matrix moving from 0.76 to
    // 0.85 keeps one colour.

    /// <summary>Layers × records, coloured by normalised effective rank exp(H)/R (its range in the records).</summary>
    public static IReadOnlyList<string> EffectiveRankHeatmap(IReadOnlyList<SpectralRecord> records, string path) =>
        Heatmap(path, records, r => r.Layers.Select(l => (l.Name, l[SpectrumColumns.NormalizedEffectiveRank])), "Normalised effective rank exp(H)/R", "exp(H)/R");

    /// <summary>Alignment score of each consecutive pair of layers over the records.</summary>
    public static IReadOnlyList<string> AlignmentHeatmap(IReadOnlyList<SpectralRecord> records, string path) =>
        Heatmap(path, records, r => r.Alignment.Select(a => (a.Name, a.Score)), "Alignment of consecutive layers (mean of the top diagonal)", "alignment");

    /// <summary>Each layer's agreement with its previous record over the records.</summary>
    public static IReadOnlyList<string> AgreementHeatmap(IReadOnlyList<SpectralRecord> records, string path) =>
        Heatmap(path, records, r => r.Agreement.Select(a => (a.Name, a.Score)), "Singular-vector agreement with the previous record", "agreement");

    /// <summary>
    /// One pair's alignment diagonal Aᵢᵢ = |⟨uᵢ, vᵢ⟩| over the records (Yunis et al. figure 2, last column): rows are the index i of
    /// the singular directions, columns the records. <paramref name="pair"/> is an alignment name ("first → second") or
    /// a layer's path for its agreement over time.
    /// </summary>
    public static IReadOnlyList<string> AlignmentDiagonal(IReadOnlyList<SpectralRecord> records, string pair, string path)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentException.ThrowIfNullOrEmpty(pair);
        var columns = records.Select(r => (r.Step, diagonal: r.Alignment.Concat(r.Agreement).FirstOrDefault(d => d.Name == pair)?.Diagonal))
            .Where(c => c.diagonal is not null).ToList();
        if (columns.Count == 0) throw new ArgumentException($"no record has the pair '{pair}'", nameof(pair));
        int length = columns.Max(c => c.diagonal!.Length);
        var values = new double[length, columns.Count];
        for (int i = 0; i < length; i++)
            for (int j = 0; j < columns.Count; j++) values[i, j] = i < columns[j].diagonal!.Length ? columns[j].diagonal![i] : double.NaN;
        string[] rows = Enumerable.Range(1, length).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        string[] steps = columns.Select(c => c.Step.ToString("#,0", CultureInfo.InvariantCulture)).ToArray();
        return new Heatmap
        {
            Title = $"Alignment of the i-th singular directions |⟨uᵢ, vᵢ⟩|, {pair}", XLabel = "step", YLabel = "singular direction i", ValueLabel = "|⟨uᵢ, vᵢ⟩|",
        }.Save(path, rows, steps, values);
    }

    /// <summary>The <paramref name="count"/> largest singular values of <paramref name="layer"/> over the records (log scale).</summary>
    public static IReadOnlyList<string> SingularValues(IReadOnlyList<SpectralRecord> records, string layer, string path, int count = 10)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var points = records.Select(r => (r.Step, values: r.Layers.FirstOrDefault(l => l.Name == layer)?.SingularValues)).Where(p => p.values is not null).ToList();
        if (points.Count == 0) throw new ArgumentException($"no record has layer '{layer}'", nameof(layer));
        int shown = Math.Min(count, points.Max(p => p.values!.Length));
        var series = Enumerable.Range(0, shown).Select(i => new ChartSeries($"σ{i + 1}",
            points.Where(p => p.values!.Length > i).Select(p => ((double)p.Step, p.values![i])).ToList())).ToList();
        return new LineChart { Title = $"Singular values of {layer}", XLabel = "step", YLabel = "singular value", LogY = true }.Save(path, series);
    }

    /// <summary>
    /// Writes the four figures (PNG and SVG) into <paramref name="directory"/>; the singular values are those of
    /// <paramref name="layer"/> (default: the layer whose effective rank changed most, so a frozen layer is never the one shown).
    /// </summary>
    public static IReadOnlyList<string> WriteAll(IReadOnlyList<SpectralRecord> records, string directory, string? layer = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0) throw new ArgumentException("no records to plot", nameof(records));
        Directory.CreateDirectory(directory);
        string File(string name) => Path.Combine(directory, name);
        var written = new List<string>();
        written.AddRange(EffectiveRankHeatmap(records, File("effective-rank")));
        written.AddRange(SingularValues(records, layer ?? MostChanged(records), File("singular-values")));
        if (records.Any(r => r.Alignment.Count > 0)) written.AddRange(AlignmentHeatmap(records, File("alignment")));
        if (records.Any(r => r.Agreement.Count > 0)) written.AddRange(AgreementHeatmap(records, File("agreement")));
        return written;
    }

    private static string MostChanged(IReadOnlyList<SpectralRecord> records)
    {
        var last = records[^1].Layers.ToDictionary(l => l.Name, l => l[SpectrumColumns.EffectiveRank]);
        return records[0].Layers.MaxBy(l => last.TryGetValue(l.Name, out double end) ? Math.Abs(end - l[SpectrumColumns.EffectiveRank]) : -1)!.Name;
    }

    // Rows: every name any record has, in first-seen order; columns: the records; missing cells are NaN (grey).
    private static IReadOnlyList<string> Heatmap(string path, IReadOnlyList<SpectralRecord> records, Func<SpectralRecord, IEnumerable<(string name, double value)>> cells,
        string title, string valueLabel)
    {
        ArgumentNullException.ThrowIfNull(records);
        var rows = new List<string>();
        var index = new Dictionary<string, int>();
        foreach (SpectralRecord r in records)
            foreach ((string name, _) in cells(r))
                if (index.TryAdd(name, rows.Count)) rows.Add(name);
        if (rows.Count == 0) throw new ArgumentException($"the records hold no values for '{valueLabel}'", nameof(records));
        var values = new double[rows.Count, records.Count];
        for (int i = 0; i < rows.Count; i++) for (int j = 0; j < records.Count; j++) values[i, j] = double.NaN;
        for (int j = 0; j < records.Count; j++)
            foreach ((string name, double value) in cells(records[j])) values[index[name], j] = value;
        string[] steps = records.Select(r => r.Step.ToString("#,0", CultureInfo.InvariantCulture)).ToArray();
        return new Heatmap { Title = title, XLabel = "step", ValueLabel = valueLabel }.Save(path, rows, steps, values);
    }
}
