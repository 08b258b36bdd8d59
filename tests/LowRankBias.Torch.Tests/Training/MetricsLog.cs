using System.Text.Json;
using LowRankBias.Torch.Training;

namespace LowRankBias.Torch.Tests.Training;

/// <summary>The records of a run's metrics.jsonl, read with a plain JSON parser.</summary>
internal static class MetricsLog
{
    public sealed record Line(long Step, long Epoch, string Split, double? Loss, double? Accuracy, double? Lr, JsonElement Raw);

    public static List<Line> Read(string directory)
    {
        var lines = new List<Line>();
        foreach (string text in File.ReadAllLines(Path.Combine(directory, MetricsWriter.JsonlFileName)))
        {
            JsonElement e = JsonDocument.Parse(text).RootElement.Clone();
            lines.Add(new Line(e.GetProperty("step").GetInt64(), e.GetProperty("epoch").GetInt64(), e.GetProperty("split").GetString()!,
                Number(e, "loss"), Number(e, "accuracy"), Number(e, "lr"), e));
        }
        return lines;
    }

    private static double? Number(JsonElement e, string name) =>
        e.GetProperty(name).ValueKind == JsonValueKind.Null ? null : e.GetProperty(name).GetDouble();
}
