using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace LowRankBias.Torch.IO;

/// <summary>
/// The safetensors format (used by PyTorch, PEFT and Hugging Face): an 8-byte little-endian header length, a JSON
/// header <c>{name: {"dtype", "shape", "data_offsets"}, "__metadata__": {…}}</c> padded with spaces to 8 bytes,
/// then the tensors' row-major little-endian bytes. Names mirror Python's <c>safetensors.torch</c>.
/// </summary>
public static class SafeTensors
{
    private const string MetadataKey = "__metadata__";

    private static readonly Dictionary<string, ScalarType> s_dtypes = new()
    {
        ["F64"] = ScalarType.Float64, ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16,
        ["BF16"] = ScalarType.BFloat16, ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32,
        ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8, ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    private static readonly Dictionary<ScalarType, string> s_names = s_dtypes.ToDictionary(p => p.Value, p => p.Key);

    /// <summary>Writes the tensors (copied to the host) and optional string metadata to <paramref name="path"/>, atomically.</summary>
    public static void save_file(IReadOnlyDictionary<string, Tensor> tensors, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        AtomicFile.Write(path, stream => save(tensors, stream, metadata));

    /// <summary>The file's bytes for the given tensors and metadata.</summary>
    public static byte[] save(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var memory = new MemoryStream();
        save(tensors, memory, metadata);
        return memory.ToArray();
    }

    /// <summary>Writes the tensors and metadata to <paramref name="stream"/>.</summary>
    public static void save(IReadOnlyDictionary<string, Tensor> tensors, Stream stream, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = tensors.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        byte[] header = Header(entries, metadata);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var (_, tensor) in entries)
        {
            var bytes = new byte[ByteCount(tensor)];
            tensor.CopyBytesTo(bytes);
            stream.Write(bytes);
        }
    }

    private static long ByteCount(Tensor tensor) => tensor.numel() * tensor.dtype.ElementSize();

    private static byte[] Header(List<KeyValuePair<string, Tensor>> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in entries)
            {
                if (name == MetadataKey) throw new ArgumentException($"'{MetadataKey}' is reserved and cannot name a tensor", nameof(entries));
                if (!s_names.TryGetValue(tensor.dtype, out string? dtype))
                    throw new ArgumentException($"tensor '{name}' has dtype {tensor.dtype}, which safetensors cannot store");
                long size = ByteCount(tensor);
                writer.WriteStartObject(name);
                writer.WriteString("dtype", dtype);
                writer.WriteStartArray("shape");
                foreach (long d in tensor.shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + size);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += size;
            }
            writer.WriteEndObject();
        }
        int padded = (int)((json.Length + 7) / 8 * 8);
        byte[] header = new byte[padded];
        json.ToArray().CopyTo(header, 0);
        header.AsSpan((int)json.Length).Fill((byte)' ');
        return header;
    }

    /// <summary>Reads every tensor of the file (onto <paramref name="device"/>, the CPU by default).</summary>
    public static Dictionary<string, Tensor> load_file(string path, Device? device = null) => load(ReadAll(path), device, path);

    /// <summary>Reads every tensor from the bytes of a safetensors file.</summary>
    public static Dictionary<string, Tensor> load(byte[] data, Device? device = null) => load(data, device, "<memory>");

    /// <summary>The string metadata of the file (empty when it has none).</summary>
    public static Dictionary<string, string> load_metadata(string path) => Parse(ReadAll(path), path).Metadata;

    private static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such safetensors file", path);
        return File.ReadAllBytes(path);
    }

    private static Dictionary<string, Tensor> load(byte[] data, Device? device, string source)
    {
        Parsed parsed = Parse(data, source);
        var result = new Dictionary<string, Tensor>(parsed.Entries.Count);
        try
        {
            foreach (Entry e in parsed.Entries)
                result.Add(e.Name, torch.from_bytes(data.AsSpan(checked((int)(parsed.DataStart + e.Begin)), (int)(e.End - e.Begin)), e.Dtype, e.Shape, device));
        }
        catch
        {
            foreach (Tensor t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    private sealed record Entry(string Name, ScalarType Dtype, long[] Shape, long Begin, long End);

    private sealed record Parsed(List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart);

    private static Parsed Parse(byte[] data, string source)
    {
        InvalidDataException Bad(string problem) => new($"{source}: {problem}");

        if (data.Length < 8) throw Bad($"file is {data.Length} bytes, too short for the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(data);
        if (headerLength > (ulong)(data.Length - 8))
            throw Bad($"header length {headerLength} exceeds the {data.Length - 8} bytes after the length field (truncated file?)");
        long dataStart = 8 + (long)headerLength;
        long bufferLength = data.Length - dataStart;

        JsonDocument document;
        try { document = JsonDocument.Parse(data.AsMemory(8, (int)headerLength)); }
        catch (JsonException e) { throw Bad($"header is not valid JSON ({e.Message})"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Bad("header is not a JSON object");
            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>();
            var seen = new HashSet<string>();
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw Bad($"name '{property.Name}' appears twice in the header");
                if (property.Name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Bad("__metadata__ is not an object");
                    foreach (JsonProperty m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw Bad($"metadata '{m.Name}' is not a string");
                    continue;
                }
                entries.Add(ParseEntry(property, bufferLength, Bad));
            }
            CheckNoOverlap(entries, Bad);
            return new Parsed(entries, metadata, dataStart);
        }
    }

    private static Entry ParseEntry(JsonProperty property, long bufferLength, Func<string, InvalidDataException> bad)
    {
        string name = property.Name;
        JsonElement value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out JsonElement offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
            throw bad($"tensor '{name}' needs \"dtype\" (string), \"shape\" and \"data_offsets\" (arrays)");
        string dtypeName = dtypeElement.GetString()!;
        if (!s_dtypes.TryGetValue(dtypeName, out ScalarType dtype))
            throw bad($"tensor '{name}' has unknown dtype '{dtypeName}' (known: {string.Join(", ", s_dtypes.Keys)})");
        long[] shape = shapeElement.EnumerateArray()
            .Select(d => d.TryGetInt64(out long v) && v >= 0 ? v : throw bad($"tensor '{name}' has an invalid dimension {d}"))
            .ToArray();
        long[] offsets = offsetsElement.EnumerateArray()
            .Select(d => d.TryGetInt64(out long v) && v >= 0 ? v : throw bad($"tensor '{name}' has an invalid offset {d}"))
            .ToArray();
        if (offsets.Length != 2 || offsets[1] < offsets[0]) throw bad($"tensor '{name}' needs data_offsets [begin, end] with begin ≤ end");
        long expected = shape.Aggregate(1L, (a, d) => checked(a * d)) * dtype.ElementSize();
        if (offsets[1] - offsets[0] != expected)
            throw bad($"tensor '{name}' of dtype {dtypeName} and shape [{string.Join(", ", shape)}] needs {expected} bytes but its offsets span {offsets[1] - offsets[0]}");
        if (offsets[1] > bufferLength)
            throw bad($"tensor '{name}' ends at byte {offsets[1]} of a {bufferLength}-byte data buffer (truncated file?)");
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static void CheckNoOverlap(List<Entry> entries, Func<string, InvalidDataException> bad)
    {
        Entry? previous = null;
        foreach (Entry e in entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin))
        {
            if (previous is not null && e.Begin < previous.End)
                throw bad($"tensors '{previous.Name}' and '{e.Name}' overlap in the data buffer");
            previous = e;
        }
    }
}
