using System.Globalization;
using System.Text;

namespace LowRankBias.Torch.Training;

/// <summary>
/// The metrics as CSV (RFC 4180): a header row, then one row per record with empty cells for missing values. The
/// columns are the standard fields followed by every extra field seen so far; a record bringing a new field widens
/// the header and pads the earlier rows (the file is rewritten atomically then: rare, once per new field).
/// </summary>
internal sealed class CsvMetricsFile
{
    private readonly string _path;
    private readonly List<string> _columns;
    private readonly Func<string, Stream>? _open;

    /// <summary>Appends to <paramref name="path"/>, after dropping the rows of steps after <paramref name="lastStep"/>
    /// when the file exists; <paramref name="open"/> opens it for writing (default: the file system).</summary>
    public CsvMetricsFile(string path, long lastStep, Func<string, Stream>? open = null)
    {
        _path = path;
        _open = open;
        _columns = [.. MetricsRecord.StandardFields];
        if (File.Exists(path))
        {
            List<string> lines = MetricsFileLines.KeepUpTo(path, 1, lastStep, line => long.Parse(SplitRow(line)[0], CultureInfo.InvariantCulture));
            if (lines.Count > 0)
            {
                List<string> header = SplitRow(lines[0]);
                if (!header.Take(_columns.Count).SequenceEqual(_columns))
                    throw new InvalidDataException($"{path}: the header '{lines[0]}' does not start with the standard metrics columns");
                _columns = header;
            }
        }
        if (!File.Exists(path) || new FileInfo(path).Length == 0) MetricsFileLines.Append(path, [Row(_columns)], open);
    }

    /// <summary>Appends one record (widening the header first when it brings new fields).</summary>
    public void Write(MetricsRecord record)
    {
        var values = record.Fields().ToDictionary(f => f.name, f => f.value);
        string[] added = values.Keys.Where(k => !_columns.Contains(k)).ToArray();
        if (added.Length > 0) Widen(added);
        MetricsFileLines.Append(_path, [Row(_columns.Select(c => values.TryGetValue(c, out object? v) ? Format(v) : ""))], _open);
    }

    private void Widen(string[] added)
    {
        string padding = new(',', added.Length);
        string[] rows = File.ReadAllLines(_path).Skip(1).Select(r => r + padding).ToArray();
        MetricsFileLines.Rewrite(_path, rows.Prepend(Row([.. _columns, .. added])));
        _columns.AddRange(added); // only once the file has them
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Row(IEnumerable<string> cells) => string.Join(',', cells.Select(Quote));

    // Quotes a cell holding a separator, quote or line break, doubling its quotes.
    private static string Quote(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\r\n") < 0 ? cell : "\"" + cell.Replace("\"", "\"\"") + "\"";

    private static List<string> SplitRow(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
            else if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells;
    }
}
