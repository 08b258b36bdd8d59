using System.Text;
using System.Text.Json;

namespace LowRankBias.Torch.Training;

/// <summary>The metrics as JSON Lines: one JSON object per record, fields named as in <see cref="MetricsRecord.Fields"/>.
/// Non-finite numbers are written as the strings "NaN", "Infinity" and "-Infinity".</summary>
internal sealed class JsonlMetricsFile
{
    private readonly string _path;
    private readonly Func<string, Stream>? _open;

    /// <summary>Appends to <paramref name="path"/> (created with the first record), after dropping the records of
    /// steps after <paramref name="lastStep"/> when the file exists; <paramref name="open"/> opens it for writing (default: the file system).</summary>
    public JsonlMetricsFile(string path, long lastStep, Func<string, Stream>? open = null)
    {
        _path = path;
        _open = open;
        if (File.Exists(path))
            MetricsFileLines.KeepUpTo(path, 0, lastStep, line =>
            {
                using JsonDocument document = JsonDocument.Parse(line);
                return document.RootElement.GetProperty("step").GetInt64();
            });
    }

    /// <summary>Appends one record.</summary>
    public void Write(MetricsRecord record)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach ((string name, object? value) in record.Fields())
            {
                switch (value)
                {
                    case null: json.WriteNull(name); break;
                    case string text: json.WriteString(name, text); break;
                    case long integer: json.WriteNumber(name, integer); break;
                    case double number when double.IsFinite(number): json.WriteNumber(name, number); break;
                    case double number: json.WriteString(name, number.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
                    default: throw new InvalidOperationException($"metric '{name}' has unsupported type {value.GetType().Name}");
                }
            }
            json.WriteEndObject();
        }
        MetricsFileLines.Append(_path, [Encoding.UTF8.GetString(buffer.ToArray())], _open);
    }
}
