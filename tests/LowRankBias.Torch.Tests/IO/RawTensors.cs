using System.Runtime.InteropServices;

namespace LowRankBias.Torch.Tests.IO;

/// <summary>Builds tensors from raw little-endian bytes and reads their bytes back, for bit-exact comparisons.</summary>
internal static class RawTensors
{
    public static readonly ScalarType[] AllTypes =
    [
        ScalarType.Float32, ScalarType.Float64, ScalarType.BFloat16, ScalarType.Float16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    ];

    /// <summary>Random bit patterns (NaN payloads and subnormals included); bools are 0 or 1.</summary>
    public static byte[] RandomBytes(ScalarType type, long numel, int seed)
    {
        var bytes = new byte[numel * type.ElementSize()];
        new Random(seed).NextBytes(bytes);
        if (type == ScalarType.Bool) for (int i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        return bytes;
    }

    public static Tensor FromBytes(ScalarType type, byte[] raw, long[] shape) => type switch
    {
        ScalarType.Float32 => from_array(MemoryMarshal.Cast<byte, float>(raw), shape),
        ScalarType.Float64 => from_array(MemoryMarshal.Cast<byte, double>(raw), shape),
        ScalarType.BFloat16 => from_array(MemoryMarshal.Cast<byte, BFloat16>(raw), shape),
        ScalarType.Float16 => from_array(MemoryMarshal.Cast<byte, Half>(raw), shape),
        ScalarType.Int64 => from_array(MemoryMarshal.Cast<byte, long>(raw), shape),
        ScalarType.Int32 => from_array(MemoryMarshal.Cast<byte, int>(raw), shape),
        ScalarType.Int16 => from_array(MemoryMarshal.Cast<byte, short>(raw), shape),
        ScalarType.Int8 => from_array(MemoryMarshal.Cast<byte, sbyte>(raw), shape),
        ScalarType.Byte => from_array<byte>(raw, shape),
        ScalarType.Bool => from_array(MemoryMarshal.Cast<byte, bool>(raw), shape),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static byte[] ToBytes(Tensor t) => t.dtype switch
    {
        ScalarType.Float32 => Bytes(t.ToArray<float>()),
        ScalarType.Float64 => Bytes(t.ToArray<double>()),
        ScalarType.BFloat16 => Bytes(t.ToArray<BFloat16>()),
        ScalarType.Float16 => Bytes(t.ToArray<Half>()),
        ScalarType.Int64 => Bytes(t.ToArray<long>()),
        ScalarType.Int32 => Bytes(t.ToArray<int>()),
        ScalarType.Int16 => Bytes(t.ToArray<short>()),
        ScalarType.Int8 => Bytes(t.ToArray<sbyte>()),
        ScalarType.Byte => t.ToArray<byte>(),
        ScalarType.Bool => Bytes(t.ToArray<bool>()),
        var other => throw new ArgumentOutOfRangeException(nameof(t), other, null),
    };

    private static byte[] Bytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
