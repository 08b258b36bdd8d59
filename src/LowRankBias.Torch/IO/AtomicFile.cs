namespace LowRankBias.Torch.IO;

/// <summary>
/// Replaces a file all at once: readers (and a crash) see either the previous content or the complete new one,
/// never a partial write. Used for safetensors files and checkpoints.
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
}
