namespace LowRankBias.Torch.Training;

/// <summary>
/// Writes each <see cref="MetricsRecord"/> to <c>metrics.jsonl</c> and <c>metrics.csv</c> in a directory, each record
/// appended whole or not at all (<see cref="IO.AtomicFile.Append(string, string)"/>): a crash loses nothing already
/// logged, and a full disk leaves neither half a record nor an empty file.
/// </summary>
public sealed class MetricsWriter : IDisposable
{
    /// <summary>File name of the JSON Lines log.</summary>
    public const string JsonlFileName = "metrics.jsonl";

    /// <summary>File name of the CSV log.</summary>
    public const string CsvFileName = "metrics.csv";

    private readonly JsonlMetricsFile _jsonl;
    private readonly CsvMetricsFile _csv;

    private MetricsWriter(string directory, long lastStep, Func<string, Stream>? open)
    {
        Directory.CreateDirectory(directory);
        JsonlPath = Path.Combine(directory, JsonlFileName);
        CsvPath = Path.Combine(directory, CsvFileName);
        _jsonl = new JsonlMetricsFile(JsonlPath, lastStep, open);
        _csv = new CsvMetricsFile(CsvPath, lastStep, open);
    }

    /// <summary>Starts new logs in <paramref name="directory"/>; refuses to overwrite existing ones, which would lose them.</summary>
    public static MetricsWriter Create(string directory) => Create(directory, null);

    /// <summary><see cref="Create(string)"/> writing through <paramref name="open"/> (tests inject a failing stream).</summary>
    internal static MetricsWriter Create(string directory, Func<string, Stream>? open)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        foreach (string name in new[] { JsonlFileName, CsvFileName })
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path) && new FileInfo(path).Length > 0)
                throw new IOException($"{path} already holds metrics, but there is no checkpoint to resume from (another run, or one " +
                    "that stopped before its first checkpoint): delete the metrics files or choose another directory");
        }
        return new MetricsWriter(directory, long.MaxValue, open);
    }

    /// <summary>Continues the logs in <paramref name="directory"/> after step <paramref name="step"/>: records of later
    /// steps (logged after the checkpoint a run resumes from) are dropped, since the resumed run logs them again.</summary>
    public static MetricsWriter Resume(string directory, long step)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return new MetricsWriter(directory, step, null);
    }

    /// <summary>Path of the JSON Lines log.</summary>
    public string JsonlPath { get; }

    /// <summary>Path of the CSV log.</summary>
    public string CsvPath { get; }

    /// <summary>Appends <paramref name="record"/> to both logs.</summary>
    public void Write(MetricsRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _jsonl.Write(record);
        _csv.Write(record);
    }

    /// <summary>Nothing stays open between records; disposing is kept so that existing <c>using</c> blocks still read right.</summary>
    public void Dispose()
    {
    }
}
