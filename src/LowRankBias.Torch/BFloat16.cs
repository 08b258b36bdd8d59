namespace LowRankBias.Torch;

/// <summary>A bfloat16 value as stored in memory (the upper 16 bits of a float32), for host transfers.</summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    /// <summary>The raw bits.</summary>
    public readonly ushort Bits;

    private BFloat16(ushort bits) => Bits = bits;

    /// <summary>Rounds a float32 to the nearest bfloat16 (ties to even), as libtorch does.</summary>
    public static explicit operator BFloat16(float value)
    {
        if (float.IsNaN(value)) return new BFloat16(0x7FC0);
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + rounding) >> 16));
    }

    /// <summary>Widens exactly to float32.</summary>
    public static implicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    /// <inheritdoc />
    public bool Equals(BFloat16 other) => Bits == other.Bits;
    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);
    /// <inheritdoc />
    public override int GetHashCode() => Bits;
    /// <inheritdoc />
    public override string ToString() => ((float)this).ToString();
}
