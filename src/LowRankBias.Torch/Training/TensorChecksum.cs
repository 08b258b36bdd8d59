using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch.Training;

/// <summary>CRC-32C (Castagnoli) of a tensor's bytes as safetensors stores them (row-major, little-endian); the CPU's
/// CRC32 instruction computes it at memory speed, so every checkpoint tensor can carry one.</summary>
internal static class TensorChecksum
{
    // Hashed in pieces small enough for a Span, so tensors may exceed 2 GiB.
    private const int Chunk = 1 << 30;

    public static unsafe uint Crc32C(Tensor t)
    {
        long size = checked(t.numel() * t.dtype.ElementSize());
        byte* buffer = (byte*)NativeMemory.Alloc((nuint)Math.Max(size, 1));
        try
        {
            Check(lrb_tensor_to_host(t.Handle, buffer, size));
            GC.KeepAlive(t);
            uint crc = ~0u;
            for (long done = 0; done < size; done += Chunk)
                crc = Update(crc, new ReadOnlySpan<byte>(buffer + done, (int)Math.Min(Chunk, size - done)));
            return ~crc;
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>Continues a CRC-32C over <paramref name="bytes"/> (no initial or final inversion).</summary>
    internal static uint Update(uint crc, ReadOnlySpan<byte> bytes)
    {
        for (; bytes.Length >= 8; bytes = bytes[8..]) crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        foreach (byte b in bytes) crc = BitOperations.Crc32C(crc, b);
        return crc;
    }
}
