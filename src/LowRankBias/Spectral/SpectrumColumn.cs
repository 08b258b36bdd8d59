namespace LowRankBias.Spectral;

/// <summary>
/// One per-matrix metric of a <see cref="MatrixSpectrum"/> as files, tables and figures show it. Every such column is
/// declared once, in <see cref="SpectrumColumns"/>; <see cref="SpectralMonitor"/> (its CSV, its JSON-lines records)
/// and the <c>lowrankbias spectra</c> tool read them from there.
/// </summary>
/// <param name="Name">The CSV column, snake_case (<c>effective_rank</c>); its PascalCase form <see cref="JsonName"/> names
/// it in JSON and in <see cref="LayerSpectrumRecord.Metrics"/>.</param>
/// <param name="Header">A short heading for tables (<c>eff. rank</c>).</param>
/// <param name="Description">What it is, with its formula: the legend of a figure.</param>
/// <param name="Quantity">Its kind, which decides the figure it is drawn in.</param>
/// <param name="Value">Reads it from a spectrum.</param>
public sealed record SpectrumColumn(string Name, string Header, string Description, SpectrumQuantity Quantity, Func<MatrixSpectrum, double> Value)
{
    /// <summary>The JSON property: <see cref="Name"/> in PascalCase (<c>EffectiveRank</c>), as the records have always written it.</summary>
    public string JsonName { get; } = ToPascalCase(Name);

    private static string ToPascalCase(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string[] words = name.Split('_');
        if (words.Any(w => w.Length == 0 || !char.IsAsciiLetterLower(w[0]) || !w.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))))
            throw new ArgumentException($"column name '{name}' is not snake_case (lower-case words joined by '_')", nameof(name));
        return string.Concat(words.Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
    }
}
