using System.Buffers.Binary;
using System.Numerics;

namespace LowRankBias.Torch.Data;

/// <summary>The contents of an IDX file: its dimensions and its unsigned-byte elements in row-major order.</summary>
/// <param name="Shape">The dimensions the header announces.</param>
/// <param name="Data">The elements, exactly as many as the dimensions multiply to.</param>
public sealed record IdxData(int[] Shape, byte[] Data);

/// <summary>
/// Reader for the IDX format of MNIST-style datasets (raw or gzip): two zero bytes, an element-type byte,
/// a dimension-count byte, one big-endian int32 per dimension, then the elements.
/// </summary>
public static class IdxFile
{
    private const byte UnsignedByte = 0x08;

    /// <summary>Reads an unsigned-byte IDX file, checking the header against the data and the expected dimension count.</summary>
    public static IdxData Read(string path, int expectedDimensions)
    {
        byte[] bytes = DataFile.ReadAllBytes(path);
        if (bytes.Length < 4) throw DataFile.Malformed(path, $"too short for an IDX header ({bytes.Length} bytes)");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw DataFile.Malformed(path, $"wrong magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(bytes):X8}: an IDX file starts with two zero bytes");
        if (bytes[2] != UnsignedByte)
            throw DataFile.Malformed(path, $"element type 0x{bytes[2]:X2} is not supported; only unsigned bytes (0x08) are");
        int dimensions = bytes[3];
        if (dimensions != expectedDimensions)
            throw DataFile.Malformed(path, $"wrong dimension count {dimensions}, expected {expectedDimensions}");

        int headerLength = 4 + 4 * dimensions;
        if (bytes.Length < headerLength)
            throw DataFile.Malformed(path, $"header truncated: {dimensions} dimensions need {headerLength} bytes, the file has {bytes.Length}");
        var shape = new int[dimensions];
        BigInteger count = 1; // exact: a forged header's sizes may multiply past any integer type
        for (int d = 0; d < dimensions; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (shape[d] < 0) throw DataFile.Malformed(path, $"negative size {shape[d]} for dimension {d}");
            count *= shape[d];
        }
        long available = bytes.Length - headerLength;
        if (available != count)
            throw DataFile.Malformed(path, $"data size does not match the header: shape [{string.Join(", ", shape)}] needs {count} bytes, the file holds {available}");
        return new IdxData(shape, bytes[headerLength..]);
    }
}
