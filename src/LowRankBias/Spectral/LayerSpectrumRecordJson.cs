using System.Text.Json;
using System.Text.Json.Serialization;

namespace LowRankBias.Spectral;

/// <summary>
/// A <see cref="LayerSpectrumRecord"/> as one flat JSON object, <c>{"Name", "Shape", one number per metric,
/// "SingularValues"}</c> — the layout the records had when each metric was a property of their own, so files written
/// then read as records now, and every number property other than those three is a metric.
/// </summary>
internal sealed class LayerSpectrumRecordJson : JsonConverter<LayerSpectrumRecord>
{
    public override void Write(Utf8JsonWriter writer, LayerSpectrumRecord value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString(nameof(LayerSpectrumRecord.Name), value.Name);
        writer.WritePropertyName(nameof(LayerSpectrumRecord.Shape));
        JsonSerializer.Serialize(writer, value.Shape, options);
        foreach ((string name, double metric) in value.Metrics)
        {
            writer.WritePropertyName(name);
            JsonSerializer.Serialize(writer, metric, options); // NaN and ±∞ as the options allow
        }
        writer.WritePropertyName(nameof(LayerSpectrumRecord.SingularValues));
        JsonSerializer.Serialize(writer, value.SingularValues, options);
        writer.WriteEndObject();
    }

    public override LayerSpectrumRecord Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException($"a layer record is a JSON object, not {reader.TokenType}");
        string? name = null;
        long[]? shape = null;
        double[]? singularValues = null;
        var metrics = new OrderedDictionary<string, double>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string property = reader.GetString()!;
            reader.Read();
            switch (property)
            {
                case nameof(LayerSpectrumRecord.Name): name = reader.GetString(); break;
                case nameof(LayerSpectrumRecord.Shape): shape = JsonSerializer.Deserialize<long[]>(ref reader, options); break;
                case nameof(LayerSpectrumRecord.SingularValues): singularValues = JsonSerializer.Deserialize<double[]>(ref reader, options); break;
                default:
                    if (!metrics.TryAdd(property, JsonSerializer.Deserialize<double>(ref reader, options)))
                        throw new JsonException($"layer record '{name}': metric '{property}' appears twice");
                    break;
            }
        }
        return new LayerSpectrumRecord(
            name ?? throw new JsonException("a layer record has no Name"),
            shape ?? throw new JsonException($"layer record '{name}' has no Shape"),
            metrics,
            singularValues ?? throw new JsonException($"layer record '{name}' has no SingularValues"));
    }
}
