using System.Text.Json.Serialization;

namespace LowRankBias.Spectral;

/// <summary>What <see cref="SpectralMonitor"/> records for one weight matrix at one step.</summary>
/// <param name="Name">The layer's module path.</param>
/// <param name="Shape">The weight's shape.</param>
/// <param name="Metrics">The metrics by <see cref="SpectrumColumn.JsonName"/>, in the order of <see cref="SpectrumColumns.Recorded"/>
/// (a record read from a file holds what the file holds); read one with the indexer.</param>
/// <param name="SingularValues">The largest singular values, descending (at most <see cref="SpectralMonitorOptions.TopSingularValues"/>).</param>
[JsonConverter(typeof(LayerSpectrumRecordJson))]
public sealed record LayerSpectrumRecord(string Name, long[] Shape, IReadOnlyDictionary<string, double> Metrics, double[] SingularValues)
{
    /// <summary>The value of <paramref name="column"/>.</summary>
    /// <exception cref="ArgumentException">The record has no such metric (it was recorded before the metric existed).</exception>
    public double this[SpectrumColumn column]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(column);
            return Metrics.TryGetValue(column.JsonName, out double value) ? value
                : throw new ArgumentException($"layer '{Name}' has no '{column.Name}' (recorded: {string.Join(", ", Metrics.Keys)})", nameof(column));
        }
    }

    /// <summary>The record of <paramref name="spectrum"/>: every column of <see cref="SpectrumColumns.Recorded"/> and the
    /// <paramref name="top"/> largest singular values.</summary>
    public static LayerSpectrumRecord Of(string name, MatrixSpectrum spectrum, int top)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        var metrics = new OrderedDictionary<string, double>();
        foreach (SpectrumColumn column in SpectrumColumns.Recorded) metrics.Add(column.JsonName, column.Value(spectrum));
        return new LayerSpectrumRecord(name, spectrum.Shape, metrics, spectrum.SingularValues.Take(top).ToArray());
    }
}

/// <summary>A diagonal of singular-vector alignment (Yunis eq. 3–5) and its score, the mean of its top entries.</summary>
/// <param name="Name">"first → second" for consecutive layers, the layer's path for agreement over time.</param>
/// <param name="Score">Mean of the top <see cref="SpectralMonitorOptions.ScoreCount"/> diagonal entries.</param>
/// <param name="Diagonal">The leading diagonal entries.</param>
public sealed record DiagonalRecord(string Name, double Score, double[] Diagonal);

/// <summary>One record of <see cref="SpectralMonitor"/>: every layer's spectrum, consecutive-layer alignment and agreement with the previous record.</summary>
/// <param name="Step">The training step.</param>
/// <param name="Layers">One entry per weight matrix, in module order.</param>
/// <param name="Alignment">Consecutive layers whose shapes chain (Wᵢ₊₁ acts on Wᵢ's output).</param>
/// <param name="Agreement">Each layer against itself at the previous record (empty at the first).</param>
public sealed record SpectralRecord(long Step, IReadOnlyList<LayerSpectrumRecord> Layers, IReadOnlyList<DiagonalRecord> Alignment, IReadOnlyList<DiagonalRecord> Agreement);
