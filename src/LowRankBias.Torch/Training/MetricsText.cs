using System.Globalization;

namespace LowRankBias.Torch.Training;

/// <summary>The human-readable forms of a record shared by the progress displays.</summary>
internal static class MetricsText
{
    /// <summary>Everything on one line: where training stands, then the values.</summary>
    public static string Format(MetricsRecord record) =>
        Join([$"step {record.Step}", $"epoch {record.Epoch}", record.Split, .. Values(record, extras: true),
            Invariant($"{record.WallTime:0.0}s")]);

    /// <summary>A short form for beside a progress bar, which shows the step already.</summary>
    public static string Compact(MetricsRecord record) => Join([$"epoch {record.Epoch}", .. Values(record, extras: false)]);

    private static IEnumerable<string> Values(MetricsRecord record, bool extras)
    {
        if (record.Loss is { } loss) yield return $"loss {Number(loss)}";
        if (record.Accuracy is { } accuracy) yield return Invariant($"acc {accuracy * 100:0.00}%");
        if (extras && record.LearningRate is { } lr) yield return Invariant($"lr {lr:0.###e+0}");
        if (record.SamplesPerSecond is { } rate) yield return Invariant($"{rate:N0} samples/s");
        if (extras)
            foreach ((string name, double value) in record.Extra) yield return $"{name} {Number(value)}";
    }

    private static string Join(IEnumerable<string> parts) => string.Join(" · ", parts);

    private static string Number(double value) => value.ToString("G5", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
