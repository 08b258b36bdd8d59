using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LowRankBias.Torch.IO;

/// <summary>One tensor's entry in a safetensors header: its type, shape and where its bytes lie in the data buffer.</summary>
internal sealed record SafeTensorsEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End)
{
    internal long Length => End - Begin;
}

/// <summary>
/// The JSON header of a safetensors file: laid out for writing, serialized with the reference padding, and parsed
/// with every consistency check the format allows, so that a malformed file never reaches libtorch.
/// </summary>
internal sealed class SafeTensorsHeader
{
    private const string MetadataKey = "__metadata__";

    private SafeTensorsHeader(List<SafeTensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Entries = entries;
        Metadata = metadata;
    }

    /// <summary>The tensors, in header order.</summary>
    internal IReadOnlyList<SafeTensorsEntry> Entries { get; }

    /// <summary>The free-form string map stored under <c>__metadata__</c> (empty when absent).</summary>
    internal Dictionary<string, string> Metadata { get; }

    internal static InvalidDataException Invalid(string source, string problem) => new($"{source}: {problem}");

    /// <summary>Lays tensors out back to back, widest dtype first and then by name, as the reference writer does.</summary>
    internal static SafeTensorsHeader Plan(IEnumerable<(string Name, ScalarType DType, long[] Shape)> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var entries = new List<SafeTensorsEntry>();
        long offset = 0;
        foreach (var (name, dtype, shape) in tensors.OrderByDescending(t => SafeTensorsDType.Rank(t.DType)).ThenBy(t => t.Name, StringComparer.Ordinal))
        {
            if (name == MetadataKey) throw new ArgumentException($"'{MetadataKey}' is reserved and cannot name a tensor", nameof(tensors));
            long length = checked(shape.Aggregate(1L, (n, d) => n * d) * dtype.ElementSize());
            entries.Add(new SafeTensorsEntry(name, dtype, shape, offset, offset + length));
            offset += length;
        }
        var copy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            copy[key] = value ?? throw new ArgumentException($"metadata value of '{key}' is null", nameof(metadata));
        return new SafeTensorsHeader(entries, copy);
    }

    /// <summary>The UTF-8 JSON, padded with spaces to a multiple of 8 bytes so that the data buffer starts aligned.</summary>
    internal byte[] ToBytes()
    {
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (Metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in Metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (SafeTensorsEntry e in Entries)
            {
                writer.WriteStartObject(e.Name);
                writer.WriteString("dtype", SafeTensorsDType.NameOf(e.DType));
                writer.WriteStartArray("shape");
                foreach (long d in e.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(e.Begin);
                writer.WriteNumberValue(e.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        int padded = (json.WrittenCount + 7) / 8 * 8;
        byte[] result = new byte[padded];
        json.WrittenSpan.CopyTo(result);
        result.AsSpan(json.WrittenCount).Fill((byte)' ');
        return result;
    }

    /// <summary>Parses and validates a header whose data buffer holds <paramref name="dataLength"/> bytes.</summary>
    internal static SafeTensorsHeader Parse(byte[] json, long dataLength, string source)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json); }
        catch (JsonException e) { throw Invalid(source, $"header is not valid JSON ({e.Message})"); }

        var entries = new List<SafeTensorsEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Invalid(source, $"header must be a JSON object, not {document.RootElement.ValueKind}");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty p in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(p.Name)) throw Invalid(source, $"the name '{p.Name}' appears more than once in the header");
                if (p.Name == MetadataKey) ReadMetadata(p.Value, metadata, source);
                else entries.Add(ReadEntry(p.Name, p.Value, dataLength, source));
            }
        }
        CheckCoverage(entries, dataLength, source);
        return new SafeTensorsHeader(entries, metadata);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(source, $"{MetadataKey} must be an object, not {value.ValueKind}");
        foreach (JsonProperty p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw Invalid(source, $"{MetadataKey} must map names to strings, but '{p.Name}' holds a {p.Value.ValueKind}");
            if (!metadata.TryAdd(p.Name, p.Value.GetString()!))
                throw Invalid(source, $"the {MetadataKey} key '{p.Name}' appears more than once");
        }
    }

    private static SafeTensorsEntry ReadEntry(string name, JsonElement value, long dataLength, string source)
    {
        string where = $"tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(source, $"{where}: entry must be an object, not {value.ValueKind}");

        JsonElement dtypeValue = Field(value, "dtype", JsonValueKind.String, where, source);
        string dtypeName = dtypeValue.GetString()!;
        if (!SafeTensorsDType.TryParse(dtypeName, out ScalarType dtype))
            throw Invalid(source, $"{where}: unknown dtype \"{dtypeName}\" (supported: {SafeTensorsDType.Supported})");

        long[] shape = Integers(Field(value, "shape", JsonValueKind.Array, where, source), "shape", where, source);
        long[] offsets = Integers(Field(value, "data_offsets", JsonValueKind.Array, where, source), "data_offsets", where, source);
        if (offsets.Length != 2) throw Invalid(source, $"{where}: data_offsets must hold [begin, end], not {offsets.Length} numbers");
        (long begin, long end) = (offsets[0], offsets[1]);
        if (begin > end) throw Invalid(source, $"{where}: data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength)
            throw Invalid(source, $"{where}: data_offsets [{begin}, {end}] lie beyond the {dataLength}-byte data buffer (truncated file?)");

        long needed;
        try { needed = checked(shape.Aggregate(1L, (n, d) => n * d) * dtype.ElementSize()); }
        catch (OverflowException) { throw Invalid(source, $"{where}: shape [{string.Join(", ", shape)}] is too large"); }
        if (needed != end - begin)
            throw Invalid(source, $"{where}: shape [{string.Join(", ", shape)}] of {dtypeName} needs {needed} bytes but data_offsets [{begin}, {end}] span {end - begin}");
        return new SafeTensorsEntry(name, dtype, shape, begin, end);
    }

    private static JsonElement Field(JsonElement entry, string field, JsonValueKind kind, string where, string source)
    {
        if (!entry.TryGetProperty(field, out JsonElement value)) throw Invalid(source, $"{where}: \"{field}\" is missing");
        if (value.ValueKind != kind) throw Invalid(source, $"{where}: \"{field}\" must be {kind}, not {value.ValueKind}");
        return value;
    }

    private static long[] Integers(JsonElement array, string field, string where, string source) =>
        array.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long x) && x >= 0 ? x
            : throw Invalid(source, $"{where}: \"{field}\" must hold non-negative integers, not {v.GetRawText()}")).ToArray();

    /// <summary>The tensors must tile the data buffer exactly: no overlap, no gap, no trailing bytes.</summary>
    private static void CheckCoverage(List<SafeTensorsEntry> entries, long dataLength, string source)
    {
        long covered = 0;
        SafeTensorsEntry? previous = null;
        foreach (SafeTensorsEntry e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < covered)
                throw Invalid(source, $"tensors '{previous!.Name}' [{previous.Begin}, {previous.End}] and '{e.Name}' [{e.Begin}, {e.End}] overlap");
            if (e.Begin > covered) throw Invalid(source, $"bytes [{covered}, {e.Begin}) of the data buffer belong to no tensor");
            covered = e.End;
            previous = e;
        }
        if (covered != dataLength)
            throw Invalid(source, $"the data buffer holds {dataLength} bytes but the tensors cover only {covered}");
    }
}
