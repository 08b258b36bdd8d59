namespace LowRankBias.Torch;

/// <summary>Element types; the values are c10::ScalarType's, so they cross the native boundary unchanged.</summary>
public enum ScalarType
{
    /// <summary>uint8</summary>
    Byte = 0,
    /// <summary>int8</summary>
    Int8 = 1,
    /// <summary>int16</summary>
    Int16 = 2,
    /// <summary>int32</summary>
    Int32 = 3,
    /// <summary>int64</summary>
    Int64 = 4,
    /// <summary>float16</summary>
    Float16 = 5,
    /// <summary>float32</summary>
    Float32 = 6,
    /// <summary>float64</summary>
    Float64 = 7,
    /// <summary>bool</summary>
    Bool = 11,
    /// <summary>bfloat16</summary>
    BFloat16 = 15,
}

/// <summary>Sizes and classification of <see cref="ScalarType"/> values.</summary>
public static class ScalarTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this ScalarType type) => type switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unsupported scalar type"),
    };

    /// <summary>True for float16, bfloat16, float32 and float64.</summary>
    public static bool IsFloatingPoint(this ScalarType type) =>
        type is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;

    /// <summary>The .NET element type that holds values of this scalar type on the host.</summary>
    internal static ScalarType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? ScalarType.Float32 :
        typeof(T) == typeof(double) ? ScalarType.Float64 :
        typeof(T) == typeof(long) ? ScalarType.Int64 :
        typeof(T) == typeof(int) ? ScalarType.Int32 :
        typeof(T) == typeof(short) ? ScalarType.Int16 :
        typeof(T) == typeof(byte) ? ScalarType.Byte :
        typeof(T) == typeof(sbyte) ? ScalarType.Int8 :
        typeof(T) == typeof(bool) ? ScalarType.Bool :
        typeof(T) == typeof(Half) ? ScalarType.Float16 :
        typeof(T) == typeof(BFloat16) ? ScalarType.BFloat16 :
        throw new NotSupportedException($"no tensor element type corresponds to {typeof(T).Name}");
}
