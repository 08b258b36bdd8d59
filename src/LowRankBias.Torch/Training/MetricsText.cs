using System.Globalization;

namespace LowRankBias.Torch.Training;

/// <summary>The one-line human-readable form of a record shared by the progress displays.</summary>
internal static class MetricsText
{
    public static string Format(MetricsRecord record)
    {
        var parts = new List<string> { $"step {record.Step}", $"epoch {record.Epoch}", record.Split };
        if (record.Loss is { } loss) parts.Add($"loss {Number(loss)}");
        if (record.Accuracy is { } accuracy) parts.Add(string.Create(CultureInfo.InvariantCulture, $"acc {accuracy:P2}"));
        if (record.LearningRate is { } lr) parts.Add(string.Create(CultureInfo.InvariantCulture, $"lr {lr:0.###e+0}"));
        if (record.SamplesPerSecond is { } rate) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{rate:N0} samples/s"));
        parts.AddRange(record.Extra.Select(e => $"{e.Key} {Number(e.Value)}"));
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"{record.WallTime:0.0}s"));
        return string.Join(" · ", parts);
    }

    private static string Number(double value) => value.ToString("G5", CultureInfo.InvariantCulture);
}
