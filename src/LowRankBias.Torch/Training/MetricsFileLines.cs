using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Training;

/// <summary>Line-level maintenance shared by the metrics files (one record per line after optional header lines).</summary>
internal static class MetricsFileLines
{
    /// <summary>
    /// Keeps the <paramref name="headerLines"/> first lines and the records of steps up to <paramref name="lastStep"/>,
    /// rewriting the file atomically when anything is dropped: a resumed run repeats the later steps, and their
    /// records would otherwise appear twice. Returns the kept lines.
    /// </summary>
    public static List<string> KeepUpTo(string path, int headerLines, long lastStep, Func<string, long> stepOf)
    {
        string[] lines = File.ReadAllLines(path);
        var kept = lines.Take(headerLines).ToList();
        foreach (string line in lines.Skip(headerLines))
        {
            long step;
            try { step = stepOf(line); }
            catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException)
            {
                throw new InvalidDataException($"{path}: cannot read the step of the record '{line}' ({e.Message})", e);
            }
            if (step <= lastStep) kept.Add(line);
        }
        if (kept.Count < lines.Length) Rewrite(path, kept);
        return kept;
    }

    /// <summary>Replaces the file's content by <paramref name="lines"/>, atomically.</summary>
    public static void Rewrite(string path, IEnumerable<string> lines) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            foreach (string line in lines) writer.WriteLine(line);
        });

    /// <summary>
    /// Appends <paramref name="lines"/> at once, each whole or none (<see cref="AtomicFile.Append(string, string)"/>): a
    /// crash loses no written record, and a full disk leaves neither half a record nor an empty file.
    /// </summary>
    public static void Append(string path, IEnumerable<string> lines, Func<string, Stream>? open) =>
        AtomicFile.Append(path, string.Concat(lines.Select(l => l + Environment.NewLine)), open ?? AtomicFile.OpenForAppend);
}
