using System.Text;
using LowRankBias.Torch.IO;

namespace LowRankBias.Cli;

/// <summary>
/// The programs' results, each file written whole or not at all (<see cref="AtomicFile"/>): a full disk or a crash
/// leaves the previous file, or none, never a truncated one.
/// </summary>
public static class OutputFile
{
    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/>.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    /// <summary>Writes <paramref name="lines"/>, each ended by a line break, to <paramref name="path"/>.</summary>
    public static void WriteAllLines(string path, IEnumerable<string> lines) =>
        WriteAllText(path, string.Concat(lines.Select(l => l + Environment.NewLine)));

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => AtomicFile.Write(path, stream => stream.Write(bytes));
}
