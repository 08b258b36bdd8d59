using System.Runtime.InteropServices;
using LowRankBias.Torch;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LowRankBias.Onnx;

/// <summary>ONNX <c>TensorProto</c>s (initializers, Constant values) as tensors, from raw little-endian bytes, the typed
/// repeated fields, or an external data file next to the model.</summary>
internal static class OnnxTensors
{
    public static ScalarType ScalarTypeOf(int dataType, string what) => (DataType)dataType switch
    {
        DataType.Float => ScalarType.Float32,
        DataType.Double => ScalarType.Float64,
        DataType.Float16 => ScalarType.Float16,
        DataType.Bfloat16 => ScalarType.BFloat16,
        DataType.Int64 => ScalarType.Int64,
        DataType.Int32 => ScalarType.Int32,
        DataType.Int16 => ScalarType.Int16,
        DataType.Int8 => ScalarType.Int8,
        DataType.Uint8 => ScalarType.Byte,
        DataType.Bool => ScalarType.Bool,
        _ => throw new NotSupportedException($"{what} has ONNX data type {(DataType)dataType}, which has no libtorch counterpart here"),
    };

    /// <summary>The tensor <paramref name="proto"/> holds; <paramref name="modelPath"/> names the file in errors and
    /// locates external data.</summary>
    public static Tensor ToTensor(TensorProto proto, string modelPath, string what)
    {
        ScalarType dtype = ScalarTypeOf(proto.DataType, what);
        long[] shape = proto.Dims.ToArray();
        if (shape.Any(d => d < 0)) throw new InvalidDataException($"{modelPath}: {what} has a negative dimension in [{string.Join(", ", shape)}]");
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (proto.DataLocation != TensorProto.Types.DataLocation.External && proto.RawData.IsEmpty)
            return Typed(proto, dtype, shape, count, modelPath, what);
        ReadOnlySpan<byte> bytes = proto.DataLocation == TensorProto.Types.DataLocation.External
            ? ExternalBytes(proto, modelPath, what) : proto.RawData.Span;
        if (bytes.Length != count * dtype.ElementSize())
            throw new InvalidDataException($"{modelPath}: {what} of shape [{string.Join(", ", shape)}] ({dtype}) needs {count * dtype.ElementSize()} bytes but holds {bytes.Length}");
        return torch.from_bytes(bytes, dtype, shape);
    }

    // The typed fields: float_data, double_data, int64_data, and int32_data for every type of 32 bits or fewer.
    private static Tensor Typed(TensorProto p, ScalarType dtype, long[] shape, long count, string modelPath, string what)
    {
        int stored = dtype switch
        {
            ScalarType.Float32 => p.FloatData.Count,
            ScalarType.Float64 => p.DoubleData.Count,
            ScalarType.Int64 => p.Int64Data.Count,
            _ => p.Int32Data.Count,
        };
        if (stored != count)
            throw new InvalidDataException($"{modelPath}: {what} of shape [{string.Join(", ", shape)}] ({dtype}) needs {count} values but holds {stored}");
        return dtype switch
        {
            ScalarType.Float32 => torch.from_array<float>(p.FloatData.ToArray(), shape),
            ScalarType.Float64 => torch.from_array<double>(p.DoubleData.ToArray(), shape),
            ScalarType.Int64 => torch.from_array<long>(p.Int64Data.ToArray(), shape),
            ScalarType.Int32 => torch.from_array<int>(p.Int32Data.ToArray(), shape),
            ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 =>
                torch.from_bytes(MemoryMarshal.AsBytes(p.Int32Data.Select(v => (ushort)v).ToArray().AsSpan()), dtype, shape),
            _ => torch.from_bytes(p.Int32Data.Select(v => (byte)v).ToArray(), dtype, shape),  // Int8, Byte, Bool
        };
    }

    private static byte[] ExternalBytes(TensorProto p, string modelPath, string what)
    {
        var entries = p.ExternalData.ToDictionary(e => e.Key, e => e.Value);
        if (!entries.TryGetValue("location", out string? location) || location.Length == 0)
            throw new InvalidDataException($"{modelPath}: {what} is stored externally but names no location");
        // ONNX requires a relative path inside the model's directory; anything else would read arbitrary files.
        string directory = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        string file = Path.GetFullPath(Path.Combine(directory, location));
        if (Path.IsPathRooted(location) || !file.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"{modelPath}: {what} names external data '{location}' outside the model's directory");
        if (!File.Exists(file))
            throw new InvalidDataException($"{modelPath}: the external data file '{location}' of {what} is missing (looked for {file})");
        long fileLength = new FileInfo(file).Length;
        long offset = Number(entries, "offset", 0, modelPath, what);
        long length = Number(entries, "length", fileLength - offset, modelPath, what);
        if (offset < 0 || length < 0 || offset + length > fileLength || length > int.MaxValue)
            throw new InvalidDataException($"{modelPath}: {what} reads bytes {offset}..{offset + length} of '{location}', which has {fileLength}");
        var bytes = new byte[length];
        using FileStream stream = File.OpenRead(file);
        stream.Seek(offset, SeekOrigin.Begin);
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static long Number(Dictionary<string, string> entries, string key, long fallback, string modelPath, string what) =>
        !entries.TryGetValue(key, out string? text) ? fallback
        : long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) ? value
        : throw new InvalidDataException($"{modelPath}: {what} has external data {key} '{text}', not a non-negative integer");
}
