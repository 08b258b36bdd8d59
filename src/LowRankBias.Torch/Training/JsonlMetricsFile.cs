using System.Text;
using System.Text.Json;

namespace LowRankBias.Torch.Training;

/// <summary>The metrics as JSON Lines: one JSON object per record, fields named as in <see cref="MetricsRecord.Fields"/>.
/// Non-finite numbers are written as the strings "NaN", "Infinity" and "-Infinity".</summary>
internal sealed class JsonlMetricsFile : IDisposable
{
    private readonly StreamWriter _writer;

    /// <summary>Opens <paramref name="path"/> for appending, after dropping the records of steps after
    /// <paramref name="lastStep"/> when the file exists.</summary>
    public JsonlMetricsFile(string path, long lastStep)
    {
        if (File.Exists(path))
            MetricsFileLines.KeepUpTo(path, 0, lastStep, line =>
            {
                using JsonDocument document = JsonDocument.Parse(line);
                return document.RootElement.GetProperty("step").GetInt64();
            });
        _writer = MetricsFileLines.Append(path);
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
        _writer.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _writer.Dispose();
}
