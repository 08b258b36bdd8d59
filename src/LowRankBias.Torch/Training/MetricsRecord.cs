namespace LowRankBias.Torch.Training;

/// <summary>
/// One line of the metrics log: where training stood (<see cref="Step"/>, <see cref="Epoch"/>, <see cref="WallTime"/>),
/// which split the numbers describe, and the numbers. Values that do not apply are null.
/// </summary>
/// <param name="Step">Optimizer steps done so far.</param>
/// <param name="Epoch">The training epoch the record belongs to (0-based).</param>
/// <param name="Split">What was measured: <c>train</c> (the steps since the last train record), <c>train_epoch</c>
/// (a whole epoch), <c>test</c> (an evaluation), or a name chosen by a callback.</param>
public sealed record MetricsRecord(long Step, long Epoch, string Split)
{
    /// <summary>The names of the standard fields, in the order they are written (extra fields follow).</summary>
    public static IReadOnlyList<string> StandardFields { get; } =
        ["step", "epoch", "split", "loss", "accuracy", "lr", "samples_per_second", "wall_time"];

    /// <summary>Mean loss per sample.</summary>
    public double? Loss { get; init; }

    /// <summary>Fraction of correctly classified samples, when the loss function counts them.</summary>
    public double? Accuracy { get; init; }

    /// <summary>Learning rate of the first parameter group in the record's last step.</summary>
    public double? LearningRate { get; init; }

    /// <summary>Throughput over the measured samples.</summary>
    public double? SamplesPerSecond { get; init; }

    /// <summary>Seconds of training so far, summed over resumed runs.</summary>
    public double WallTime { get; init; }

    /// <summary>Further named values (e.g. spectral metrics from a callback); their names must differ from the
    /// standard fields.</summary>
    public IReadOnlyDictionary<string, double> Extra { get; init; } = new Dictionary<string, double>();

    /// <summary>Every field by its written name, standard fields first (null where a value does not apply).</summary>
    public IEnumerable<(string name, object? value)> Fields()
    {
        CheckName(Split, "split");
        yield return ("step", Step);
        yield return ("epoch", Epoch);
        yield return ("split", Split);
        yield return ("loss", Loss);
        yield return ("accuracy", Accuracy);
        yield return ("lr", LearningRate);
        yield return ("samples_per_second", SamplesPerSecond);
        yield return ("wall_time", WallTime);
        foreach ((string name, double value) in Extra)
        {
            CheckName(name, "extra metric");
            if (StandardFields.Contains(name)) throw new InvalidOperationException($"extra metric '{name}' clashes with a standard field");
            yield return (name, value);
        }
    }

    // The metrics files hold one record per line.
    private static void CheckName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name.Any(char.IsControl))
            throw new InvalidOperationException($"{what} name '{name}' must be non-empty and free of control characters (line breaks)");
    }
}
