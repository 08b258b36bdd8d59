using System.Text.Json;
using System.Text.Json.Serialization;
using LowRankBias.Spectral;

namespace LowRankBias.Tests.Spectral;

/// <summary>The one list of per-matrix columns: the files it lays out keep the layouts written before it existed.</summary>
public sealed class SpectrumColumnsTests
{
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    // A record as SpectralMonitor wrote them when every metric was a property of LayerSpectrumRecord (the layout of
    // docs/results/*/spectral.jsonl), with a spectral norm of +∞ and a NaN to cover the named literals.
    private const string Legacy =
        """{"Step":3,"Layers":[{"Name":"layers.0","Shape":[512,784],"EffectiveRank":459.00854391878227,"NormalizedEffectiveRank":0.8965010623413716,"StableRank":12.555378409935555,"FrobeniusNorm":13.063023159345072,"SpectralNorm":"Infinity","NuclearNorm":"NaN","SingularValues":[1.0404324531555176,0.5]}],"Alignment":[{"Name":"layers.0 \u2192 layers.1","Score":0.25,"Diagonal":[0.5,0]}],"Agreement":[]}""";

    [Fact]
    public void ARecordOfTheOldLayoutReadsAndWritesBackByteForByte()
    {
        SpectralRecord record = JsonSerializer.Deserialize<SpectralRecord>(Legacy, Json)!;
        LayerSpectrumRecord layer = record.Layers.Single();
        Assert.Equal(459.00854391878227, layer[SpectrumColumns.EffectiveRank]);
        Assert.Equal(12.555378409935555, layer[SpectrumColumns.StableRank]);
        Assert.Equal(double.PositiveInfinity, layer[SpectrumColumns.SpectralNorm]);
        Assert.True(double.IsNaN(layer[SpectrumColumns.NuclearNorm]));
        Assert.Equal([512L, 784], layer.Shape);
        Assert.Equal(Legacy, JsonSerializer.Serialize(record, Json));
    }

    [Fact]
    public void ANewRecordHasTheRecordedColumnsInTheOldOrderWithTheSpectrumsValues()
    {
        MatrixSpectrum spectrum = MatrixSpectrum.FromSingularValues([4, 2, 1, 1], "w", [4, 6]);
        LayerSpectrumRecord layer = LayerSpectrumRecord.Of("w", spectrum, top: 3);
        Assert.Equal(["EffectiveRank", "NormalizedEffectiveRank", "StableRank", "FrobeniusNorm", "SpectralNorm", "NuclearNorm"], layer.Metrics.Keys);
        Assert.Equal("effective_rank,normalized_effective_rank,stable_rank,frobenius_norm,spectral_norm,nuclear_norm",
            string.Join(",", SpectrumColumns.Recorded.Select(c => c.Name)));
        Assert.Equal("stable_rank,effective_rank,alpha,frobenius_norm,spectral_norm,nuclear_norm", string.Join(",", SpectrumColumns.Listed.Select(c => c.Name)));
        // Closed forms for σ = (4, 2, 1, 1): Σσ² = 22, Σσ = 8.
        Assert.Equal(22.0 / 16, layer[SpectrumColumns.StableRank], 12);
        Assert.Equal(Math.Sqrt(22), layer[SpectrumColumns.FrobeniusNorm], 12);
        Assert.Equal(8, layer[SpectrumColumns.NuclearNorm], 12);
        Assert.Equal([4.0, 2, 1], layer.SingularValues);

        using JsonDocument json = JsonDocument.Parse(JsonSerializer.Serialize(layer, Json));
        Assert.Equal(["Name", "Shape", .. layer.Metrics.Keys, "SingularValues"], json.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void AMetricARecordLacksAndABadColumnNameAreNamedInTheError()
    {
        SpectralRecord record = JsonSerializer.Deserialize<SpectralRecord>(Legacy, Json)!;
        var error = Assert.Throws<ArgumentException>(() => record.Layers[0][SpectrumColumns.Alpha]);
        Assert.Equal("column", error.ParamName);
        Assert.Contains("'alpha'", error.Message);
        Assert.Contains("'Effective rank'", Assert.Throws<ArgumentException>(() => new SpectrumColumn("Effective rank", "", "", SpectrumQuantity.Rank, s => 0)).Message);
        Assert.Throws<ArgumentException>(() => new SpectrumColumn("rank__2", "", "", SpectrumQuantity.Rank, s => 0));
        Assert.Contains("no Shape", Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<LayerSpectrumRecord>("""{"Name":"x","SingularValues":[]}""", Json)).Message);
    }
}
