using LowRankBias.Spectral;

namespace LowRankBias.Tool;

/// <summary>One weight matrix's measures, as the table, CSV and JSON show them: <see cref="Values"/> holds the columns of
/// <see cref="SpectrumColumns.Listed"/> in order (α is NaN where no power law fits).</summary>
internal sealed record LayerSpectrum(int Index, string Name, long[] Shape, string DType, double[] Values)
{
    public static IReadOnlyList<SpectrumColumn> Columns => SpectrumColumns.Listed;

    /// <summary>The JSON object of the layer: index, name, shape and dtype, then every column by its JSON name.</summary>
    public OrderedDictionary<string, object> ToJson()
    {
        var json = new OrderedDictionary<string, object> { [nameof(Index)] = Index, [nameof(Name)] = Name, [nameof(Shape)] = Shape, [nameof(DType)] = DType };
        for (int i = 0; i < Columns.Count; i++) json.Add(Columns[i].JsonName, Values[i]);
        return json;
    }
}
