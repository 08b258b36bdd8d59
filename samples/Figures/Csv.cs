/// <summary>A recorded CSV file (plain comma-separated, no quoted commas, as the samples write them).</summary>
internal sealed record Csv(string[] Header, IReadOnlyList<Row> Rows)
{
    public static Csv Read(string path)
    {
        string[] lines = File.ReadAllLines(path);
        string[] header = lines[0].Split(',');
        var index = header.Select((h, i) => (h, i)).ToDictionary(x => x.h, x => x.i);
        return new Csv(header, lines.Skip(1).Where(l => l.Length > 0).Select(l => new Row(path, index, l.Split(','))).ToArray());
    }
}

/// <summary>One row, its cells by column name.</summary>
internal sealed record Row(string File, IReadOnlyDictionary<string, int> Index, string[] Cells)
{
    public string this[string column] => Index.TryGetValue(column, out int i)
        ? i < Cells.Length ? Cells[i] : ""
        : throw new InvalidDataException($"{File}: no column '{column}'");

    /// <summary>Whether the file has the column (one added to a sample's output later than some recorded runs).</summary>
    public bool Has(string column) => Index.ContainsKey(column);
}
