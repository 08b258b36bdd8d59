using System.IO.Compression;

namespace LowRankBias.Torch.Data;

/// <summary>Reading dataset files whole, transparently un-gzipping them, with errors that name the file.</summary>
internal static class DataFile
{
    /// <summary>The file's bytes; gzip data (recognised by its magic bytes, not the extension) is decompressed.</summary>
    public static byte[] ReadAllBytes(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1F || raw[1] != 0x8B) return raw;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw, writable: false), CompressionMode.Decompress);
            using var inflated = new MemoryStream();
            gzip.CopyTo(inflated);
            return inflated.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw Malformed(path, $"corrupt or truncated gzip data ({e.Message})", e);
        }
    }

    /// <summary>The exception for a file whose contents do not follow its format.</summary>
    public static InvalidDataException Malformed(string path, string problem, Exception? inner = null) =>
        new($"{path}: {problem}", inner);
}
