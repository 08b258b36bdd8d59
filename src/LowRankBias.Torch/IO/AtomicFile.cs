namespace LowRankBias.Torch.IO;

/// <summary>
/// Replaces a file all at once: readers (and a crash) see either the previous content or the complete new one,
/// never a partial write. Used for safetensors files and checkpoints; <see cref="Append(string, string)"/> does the
/// same for logs that grow a record at a time.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Lets <paramref name="write"/> fill a temporary file next to <paramref name="path"/>, flushes it to disk and
    /// renames it over <paramref name="path"/>. If <paramref name="write"/> throws, the temporary file is deleted,
    /// the exception propagates and any existing file at <paramref name="path"/> is left untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string target = Path.GetFullPath(path);
        // Same directory as the target so that the final rename stays within one file system (and is atomic).
        string temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// Appends <paramref name="text"/> to <paramref name="path"/> whole or not at all: when the write fails (a full
    /// disk), the file is cut back to its previous length — or removed, when this call created it — and the exception
    /// propagates. A log written this way never ends in half a record and is never left empty.
    /// </summary>
    public static void Append(string path, string text) => Append(path, text, OpenForAppend);

    /// <summary><see cref="Append(string, string)"/> through <paramref name="open"/>, which opens the file for writing (tests inject a failing one).</summary>
    internal static void Append(string path, string text, Func<string, Stream> open)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(text);
        bool existed = File.Exists(path);
        using Stream stream = open(path);
        long length = stream.Seek(0, SeekOrigin.End);
        try
        {
            stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
            stream.Flush();
        }
        catch
        {
            if (existed) stream.SetLength(length);
            else
            {
                stream.Dispose();
                File.Delete(path);
            }
            throw;
        }
    }

    // Unbuffered: a failed write fails here, not again when the stream is closed.
    internal static FileStream OpenForAppend(string path) => new(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, bufferSize: 0);
}
