using System.Globalization;
using LowRankBias.Cli;
using LowRankBias.Torch.IO;

namespace LowRankBias.Samples;

/// <summary>
/// A results table as CSV, the one way programs write theirs: a header of column names, then rows of exactly as many
/// cells. Numbers are written in the invariant culture, doubles and floats round-trip ("R"), so reading a file back
/// gives the same numbers; a string is written as given, quoted (RFC 4180) when it holds a comma, quote or line break;
/// null is an empty cell. <see cref="Save"/> writes the whole table at once through <see cref="AtomicFile"/>; a table
/// made with <see cref="Appending"/> also appends each row to its file as it is added (each row whole), so a long run
/// can be followed and a stopped one keeps what it finished.
/// </summary>
public sealed class CsvTable
{
    private readonly List<string> _lines;
    private readonly string? _appendTo;

    /// <summary>An empty table with these <paramref name="columns"/>.</summary>
    public CsvTable(params string[] columns) : this(columns, null)
    {
    }

    private CsvTable(string[] columns, string? appendTo)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Length == 0) throw new ArgumentException("a CSV table needs at least one column", nameof(columns));
        string? duplicate = columns.GroupBy(c => c).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (duplicate is not null) throw new ArgumentException($"column '{duplicate}' is named twice", nameof(columns));
        Columns = columns;
        _lines = [Line(columns)];
        _appendTo = appendTo;
        if (appendTo is not null) Save(appendTo);
    }

    /// <summary>A table whose file <paramref name="path"/> is written now (the header) and grows by each added row.</summary>
    public static CsvTable Appending(string path, params string[] columns)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new CsvTable(columns, path);
    }

    /// <summary>The column names.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The rows added so far.</summary>
    public int Count => _lines.Count - 1;

    /// <summary>Adds a row of one cell per column.</summary>
    public void Add(params object?[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != Columns.Count)
            throw new ArgumentException($"a row of {cells.Length} cells for {Columns.Count} columns ({string.Join(",", Columns)})", nameof(cells));
        string line = Line(cells);
        _lines.Add(line);
        if (_appendTo is not null) AtomicFile.Append(_appendTo, line + Environment.NewLine);
    }

    /// <summary>Writes the header and every row to <paramref name="path"/>, whole or not at all.</summary>
    public void Save(string path) => OutputFile.WriteAllLines(path, _lines);

    /// <summary>A value as a CSV cell.</summary>
    public static string Cell(object? value) => value switch
    {
        null => "",
        string s => s.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : s,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Cell(value.ToString()),
    };

    /// <summary><paramref name="value"/> with <paramref name="decimals"/> digits after the point, for a column whose
    /// precision is a choice (an accuracy to 0.01%) rather than the whole double.</summary>
    public static string Fixed(double value, int decimals) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string Line(IEnumerable<object?> cells) => string.Join(',', cells.Select(Cell));
}
