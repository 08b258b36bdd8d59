using System.Buffers.Binary;
using System.Text;

namespace LowRankBias.Torch.IO;

/// <summary>The formats of weight files that LowRankBias reads.</summary>
public enum WeightFormat
{
    /// <summary>Neither format recognised (a damaged file): the safetensors reader names what is wrong with it.</summary>
    Unknown,

    /// <summary>A <c>torch.save</c> zip archive (PyTorch 1.6 and later), read by <see cref="PyTorchFile"/>.</summary>
    TorchSave,

    /// <summary>A safetensors file, read by <see cref="SafeTensors"/>.</summary>
    SafeTensors,
}

/// <summary>
/// Tells a weight file's format from its first bytes, whatever its name — the one sniffer every reader and
/// <c>from_pretrained</c> uses, so that a file is reported as what it is (a legacy <c>torch.save</c> pickle, a text
/// file, a directory) rather than as a malformed file of the format its extension suggests.
/// </summary>
public static class WeightFile
{
    private const int Prefix = 64;

    /// <summary>
    /// The format of the file at <paramref name="path"/>. Throws <see cref="FileNotFoundException"/> when there is no
    /// file there (also when the path is a directory) and <see cref="InvalidDataException"/> naming what the file is
    /// when it is in a format that is not read: empty, PyTorch's legacy (pre-1.6) pickle, or text (a Git LFS pointer,
    /// an HTML page).
    /// </summary>
    public static WeightFormat detect(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream file = Open(path);
        return Detect(file, path);
    }

    /// <summary>The format of the (seekable) <paramref name="file"/>, read from its start; leaves it at position 0.</summary>
    internal static WeightFormat Detect(Stream file, string source)
    {
        Span<byte> head = stackalloc byte[Prefix];
        file.Position = 0;
        head = head[..file.ReadAtLeast(head, Prefix, throwOnEndOfStream: false)];
        file.Position = 0;
        return Detect(head, file.Length, source);
    }

    /// <summary>Opens <paramref name="path"/> to read, naming a directory as such (the OS only says "access denied").</summary>
    internal static FileStream Open(string path, int bufferSize = 4096)
    {
        if (Directory.Exists(path)) throw new FileNotFoundException($"{path}: is a directory, not a weights file", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize);
    }

    /// <summary>The format of a file of <paramref name="length"/> bytes that starts with <paramref name="head"/>.</summary>
    private static WeightFormat Detect(ReadOnlySpan<byte> head, long length, string source)
    {
        if (length == 0) throw new InvalidDataException($"{source}: is empty (0 bytes), not a torch.save zip archive or a safetensors file");
        // First, as its 8-byte header length may begin with any two bytes ("PK" is a length of 19280).
        if (head.Length >= 9 && BinaryPrimitives.ReadUInt64LittleEndian(head) <= (ulong)(length - 8) && head[8] == (byte)'{')
            return WeightFormat.SafeTensors;
        if (head.StartsWith("PK"u8)) return WeightFormat.TorchSave;
        if (head is [0x80, >= 2 and <= 5, ..])
            throw new InvalidDataException($"{source}: is in PyTorch's legacy (pre-1.6) format (a bare pickle, not a zip archive), which is not read; " +
                "re-save it with torch.save in PyTorch 1.6 or later, or as safetensors");
        if (IsText(head))
        {
            string line = Encoding.UTF8.GetString(head).Split('\n')[0].TrimEnd('\r');
            throw new InvalidDataException(line.StartsWith("version https://git-lfs", StringComparison.Ordinal)
                ? $"{source}: is a Git LFS pointer (a {length}-byte text file), not the weights: fetch them with 'git lfs pull'"
                : $"{source}: is a text file (it starts \"{line}\"), not a torch.save zip archive or a safetensors file");
        }
        return WeightFormat.Unknown;
    }

    // A safetensors file's first 8 bytes (its header length) hold zeros, a zip's and a pickle's hold control bytes.
    private static bool IsText(ReadOnlySpan<byte> head)
    {
        foreach (byte b in head)
            if (b is < 0x20 and not ((byte)'\t' or (byte)'\n' or (byte)'\r') or 0x7f) return false;
        return true;
    }
}
