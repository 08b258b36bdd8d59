using Spectre.Console;
using LowRankBias.Cli;

namespace LowRankBias.Plotting;

/// <summary>
/// A results table as the samples report it: drawn in the terminal and saved as Markdown (first column left-aligned,
/// the others right-aligned, as numbers are), so the same rows can go into a report unchanged.
/// </summary>
public sealed class SummaryTable
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    /// <summary>A table with these column headers.</summary>
    public SummaryTable(params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (headers.Length == 0) throw new ArgumentException("a table needs at least one column", nameof(headers));
        _headers = headers;
    }

    /// <summary>The rows added so far.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows => _rows;

    /// <summary>Adds a row of exactly one cell per column.</summary>
    public void AddRow(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _headers.Length) throw new ArgumentException($"a row of {cells.Length} cells for {_headers.Length} columns", nameof(cells));
        _rows.Add(cells);
    }

    /// <summary>The table as GitHub Markdown; '|' inside cells is escaped.</summary>
    public string ToMarkdown()
    {
        static string Line(IEnumerable<string> cells) => "| " + string.Join(" | ", cells.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))) + " |";
        var lines = new List<string> { Line(_headers), "|" + string.Join("|", _headers.Select((_, i) => i == 0 ? "---" : "---:")) + "|" };
        lines.AddRange(_rows.Select(Line));
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>
    /// Draws the table on the console (as Markdown when the output goes to a file or pipe, where a box drawn for an
    /// 80-column page would wrap every cell) and, given <paramref name="markdownPath"/>, saves it there as Markdown.
    /// </summary>
    public void Write(string? markdownPath = null)
    {
        if (markdownPath is not null) OutputFile.WriteAllText(markdownPath, ToMarkdown());
        if (Console.IsOutputRedirected)
        {
            Console.Write(ToMarkdown());
            return;
        }
        var table = new Table().AddColumns(_headers.Select(Markup.Escape).ToArray());
        foreach (string[] row in _rows) table.AddRow(row.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
    }
}
