using System.Buffers.Binary;
using System.IO.Compression;

namespace LowRankBias.Torch.Data;

/// <summary>Reading dataset files whole, transparently un-gzipping them, with errors that name the file.</summary>
internal static class DataFile
{
    private const int GzipMinimumLength = 18; // 10-byte header + 8-byte trailer

    /// <summary>The file's bytes; gzip data (recognised by its magic bytes, not the extension) is decompressed.</summary>
    public static byte[] ReadAllBytes(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1F || raw[1] != 0x8B) return raw;
        byte[] inflated;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw, writable: false), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            inflated = output.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw Malformed(path, $"corrupt gzip data ({e.Message})", e);
        }
        // GZipStream ends quietly where truncated input ends; the trailer's ISIZE (length mod 2³², RFC 1952) exposes
        // that. This assumes a single gzip member, as dataset files are.
        uint announced = raw.Length < GzipMinimumLength ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(raw.Length - 4));
        if (raw.Length < GzipMinimumLength || announced != (uint)inflated.Length)
            throw Malformed(path, $"truncated gzip data: {inflated.Length} bytes decompressed, the gzip trailer announces {announced}");
        return inflated;
    }

    /// <summary>The exception for a file whose contents do not follow its format.</summary>
    public static InvalidDataException Malformed(string path, string problem, Exception? inner = null) =>
        new($"{path}: {problem}", inner);
}
