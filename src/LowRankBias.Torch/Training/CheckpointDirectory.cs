using System.Globalization;
using System.Text.RegularExpressions;

namespace LowRankBias.Torch.Training;

/// <summary>
/// A folder of checkpoints named by step (<c>step-0000001200.safetensors</c>): saves keep only the newest
/// <see cref="KeepLast"/>, and <see cref="Latest"/> finds the one to resume from. The step in the name, not the
/// file time, orders them.
/// </summary>
public sealed partial class CheckpointDirectory
{
    /// <summary>Checkpoints in <paramref name="path"/> (created on the first save), keeping the newest
    /// <paramref name="keep_last"/>.</summary>
    public CheckpointDirectory(string path, int keep_last = 3)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep_last, 1);
        Path = path;
        KeepLast = keep_last;
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>How many checkpoints a save keeps.</summary>
    public int KeepLast { get; }

    /// <summary>The file a checkpoint of <paramref name="step"/> is saved to.</summary>
    public string PathFor(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return System.IO.Path.Combine(Path, $"step-{step:D10}.safetensors");
    }

    /// <summary>The checkpoints present, oldest first.</summary>
    public IReadOnlyList<(long step, string path)> List()
    {
        if (!Directory.Exists(Path)) return [];
        var found = new List<(long step, string path)>();
        foreach (string file in Directory.EnumerateFiles(Path))
        {
            Match match = CheckpointName().Match(System.IO.Path.GetFileName(file));
            if (match.Success) found.Add((long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), file));
        }
        return found.OrderBy(c => c.step).ToList();
    }

    /// <summary>The newest checkpoint's path, or null when there is none.</summary>
    public string? Latest() => List() is { Count: > 0 } all ? all[^1].path : null;

    /// <summary>Saves <paramref name="checkpoint"/> under its step, atomically, then deletes all but the newest
    /// <see cref="KeepLast"/> checkpoints and any temporary file a crashed save left behind. Returns the path.</summary>
    public string Save(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        Directory.CreateDirectory(Path);
        // Only one run writes to a checkpoint folder, so a temporary file seen now was abandoned by a crash.
        foreach (string stale in Directory.EnumerateFiles(Path, ".step-*.tmp")) File.Delete(stale);
        string path = PathFor(checkpoint.Step);
        checkpoint.Save(path);
        IReadOnlyList<(long step, string path)> all = List();
        foreach ((_, string old) in all.Take(Math.Max(0, all.Count - KeepLast))) File.Delete(old);
        return path;
    }

    [GeneratedRegex(@"^step-(\d+)\.safetensors$")]
    private static partial Regex CheckpointName();
}
