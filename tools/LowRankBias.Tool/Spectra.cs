using System.Globalization;
using System.Text.Json;
using LowRankBias.Plotting;
using LowRankBias.Cli;
using LowRankBias.Spectral;
using LowRankBias.Torch;
using Spectre.Console;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Tool;

/// <summary>
/// <c>lowrankbias spectra FILE</c>: every weight matrix of a checkpoint (2-D tensors, and 4-D convolution kernels
/// flattened to c_out × c_in·kh·kw) analysed with the library's <see cref="SpectralMetrics"/> — stable rank
/// ‖W‖F²/‖W‖₂², effective rank exp(H), the power-law exponent α of the eigenvalues of WᵀW (WeightWatcher's fit) and
/// the norms — one tensor at a time, printed as a table and written as CSV, JSON and a plot (each file whole or not at all).
/// </summary>
internal static class Spectra
{
    private static readonly ScalarType[] s_floating = [ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16];

    public static int Run(string path, string output, int minDimension)
    {
        using var source = new WeightSource(path);
        var matrices = source.Entries
            .Where(e => s_floating.Contains(e.DType) && (e.Shape.Length == 2 || e.Shape.Length == 4) && e.Shape[0] >= minDimension
                && e.Shape.Skip(1).Aggregate(1L, (n, d) => n * d) >= minDimension)
            .ToList();
        if (matrices.Count == 0)
        {
            Console.Error.WriteLine($"{path}: no weight matrix of at least {minDimension} × {minDimension} (of {source.Entries.Count} tensors)");
            return 1;
        }
        ProgramCommand.CreateOutput(output);
        Console.WriteLine($"{path}: {matrices.Count} weight matrices of {source.Entries.Count} tensors; output {Path.GetFullPath(output)}");

        var rows = new List<LayerSpectrum>();
        var progress = new StepProgress("spectra of the layers", matrices.Count);
        progress.Run(() =>
        {
            foreach (var (name, shape, dtype) in matrices)
            {
                using (NewDisposeScope())
                {
                    Tensor weight = source.Load(name);
                    // Half-precision SVD has no CPU kernel: the spectrum of the float32 copy is the tensor's own.
                    if (dtype is ScalarType.Float16 or ScalarType.BFloat16) weight = weight.to(ScalarType.Float32);
                    MatrixSpectrum s = SpectralMetrics.Analyze(weight, name);
                    rows.Add(new LayerSpectrum(rows.Count, name, shape, dtype.ToString(), LayerSpectrum.Columns.Select(c => c.Value(s)).ToArray()));
                }
                progress.Step();
            }
        });

        PrintTable(rows);
        WriteCsv(rows, Path.Combine(output, "spectra.csv"));
        OutputFile.WriteAllText(Path.Combine(output, "spectra.json"), JsonSerializer.Serialize(new { file = Path.GetFullPath(path), layers = rows.Select(r => r.ToJson()) },
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        IEnumerable<string> figures = Plot(rows, output);
        Console.WriteLine($"wrote {string.Join(", ", ["spectra.csv", "spectra.json", .. figures])} to {Path.GetFullPath(output)}");
        return 0;
    }

    private static string F(double v) => double.IsNaN(v) ? "—" : v.ToString("G4", CultureInfo.InvariantCulture);

    private static void PrintTable(List<LayerSpectrum> rows)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160; // logs get whole names, not 80-column wraps
        var table = new Table().AddColumns(["#", "layer", "shape", "dtype", .. LayerSpectrum.Columns.Select(c => c.Header)]);
        foreach (LayerSpectrum r in rows)
            table.AddRow([r.Index.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.Name), string.Join("×", r.Shape), r.DType, .. r.Values.Select(F)]);
        AnsiConsole.Write(table);
    }

    private static void WriteCsv(List<LayerSpectrum> rows, string file)
    {
        static string Q(string s) => s.Contains(',') || s.Contains('"') ? $"\"{s.Replace("\"", "\"\"")}\"" : s;
        var lines = new List<string> { string.Join(",", ["index", "layer", "shape", "dtype", .. LayerSpectrum.Columns.Select(c => c.Name)]) };
        lines.AddRange(rows.Select(r => string.Join(",", [r.Index.ToString(CultureInfo.InvariantCulture), Q(r.Name), string.Join("x", r.Shape), r.DType,
            .. r.Values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))])));
        OutputFile.WriteAllLines(file, lines);
    }

    // One figure per kind of column over the layers; norms, orders of magnitude apart from layer to layer, only in the table.
    private static readonly (SpectrumQuantity quantity, string file, string title, string yLabel)[] s_figures =
    [
        (SpectrumQuantity.Rank, "ranks.svg", "Rank of each weight matrix", "rank"),
        (SpectrumQuantity.Exponent, "alpha.svg", "Power-law exponent α of each layer's ESD", "α"),
    ];

    // Returns the figures drawn: a column with no finite value (α where nothing fits) is left out, a figure without columns too.
    private static IEnumerable<string> Plot(List<LayerSpectrum> rows, string output)
    {
        var drawn = new List<string>();
        foreach (var (quantity, file, title, yLabel) in s_figures)
        {
            List<ChartSeries> series = LayerSpectrum.Columns.Select((column, i) => (column, i))
                .Where(c => c.column.Quantity == quantity && rows.Any(r => double.IsFinite(r.Values[c.i])))
                .Select(c => new ChartSeries(c.column.Description, rows.Select(r => ((double)r.Index, r.Values[c.i])).ToList())).ToList();
            if (series.Count == 0) continue;
            new LineChart { Title = title, XLabel = "layer (file order)", YLabel = yLabel, LogX = false }.Save(Path.Combine(output, file), series);
            drawn.Add(file);
        }
        return drawn;
    }
}
