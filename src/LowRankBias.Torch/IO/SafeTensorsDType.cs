namespace LowRankBias.Torch.IO;

/// <summary>The safetensors spelling of each supported element type.</summary>
internal static class SafeTensorsDType
{
    // In the order of the reference implementation's dtype enumeration (narrowest alignment first); writers lay
    // tensors out widest first so that every tensor's bytes stay aligned to its element size.
    private static readonly (string Name, ScalarType Type)[] s_table =
    [
        ("BOOL", ScalarType.Bool), ("U8", ScalarType.Byte), ("I8", ScalarType.Int8), ("I16", ScalarType.Int16),
        ("F16", ScalarType.Float16), ("BF16", ScalarType.BFloat16), ("I32", ScalarType.Int32),
        ("F32", ScalarType.Float32), ("F64", ScalarType.Float64), ("I64", ScalarType.Int64),
    ];

    /// <summary>Every name this library reads and writes, for error messages.</summary>
    internal static string Supported => string.Join(", ", s_table.Select(e => e.Name));

    internal static bool TryParse(string name, out ScalarType type)
    {
        int i = Array.FindIndex(s_table, e => e.Name == name);
        type = i >= 0 ? s_table[i].Type : default;
        return i >= 0;
    }

    internal static string NameOf(ScalarType type) => s_table[Rank(type)].Name;

    /// <summary>Position in the reference ordering; wider alignment ranks higher.</summary>
    internal static int Rank(ScalarType type)
    {
        int i = Array.FindIndex(s_table, e => e.Type == type);
        return i >= 0 ? i : throw new ArgumentException($"scalar type {type} has no safetensors dtype (supported: {Supported})", nameof(type));
    }
}
