using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LowRankBias.Cli;
using LowRankBias.Torch;
using Spectre.Console;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Tool.Analysis;

/// <summary>
/// <c>lowrankbias analyze FILE</c>: WeightWatcher's per-layer metrics (<see cref="LayerMetrics"/>) of every 2-D and
/// 4-D floating-point weight whose M·rf lies in [min_evals, max_evals] and N ≤ 50000 (WeightWatcher's
/// <c>layer_supported</c>), and its summary (<c>get_summary</c>: the layers' means), printed and written as
/// details.csv, details.json, one ESD plot per layer (esd/) and report.html (<see cref="HtmlReport"/>). Weights are loaded one at a time (safetensors memory-mapped).
/// A PEFT adapter folder is analysed as its updates ΔW, with <see cref="AdapterReport"/> in addition.
/// </summary>
internal static class AnalyzeCommand
{
    /// <summary>WeightWatcher's max_N: larger matrices are skipped.</summary>
    public const int MaxN = 50000;

    /// <summary>The columns averaged by <c>get_summary</c>.</summary>
    public static readonly string[] SummaryMetrics = ["log_norm", "alpha", "alpha_weighted", "log_alpha_norm", "log_spectral_norm", "stable_rank", "mp_softrank"];

    private static readonly ScalarType[] s_floating = [ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16];

    public sealed record Options(int MinEvals = 10, int MaxEvals = 15000, bool Randomize = false, bool Plots = true, int Seed = 0, string? Base = null);

    public static int Run(string path, string output, Options options)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200; // logs get whole names, not 80-column wraps
        if (options.MinEvals > options.MaxEvals) throw new ArgumentException($"--min-evals {options.MinEvals} exceeds --max-evals {options.MaxEvals}");
        using var source = new WeightSource(path);
        if (options.Base is not null && source.Adapter is null) throw new ArgumentException($"--base is for a PEFT adapter folder, and {path} is none");
        var layers = source.Entries.Where(e => s_floating.Contains(e.DType) && e.Shape.Length is 2 or 4 && e.Shape.All(d => d > 0))
            .Select(e => (e.Name, e.Shape, Dims: Esd.Dimensions(e.Shape)))
            .Where(e => (long)e.Dims.M * e.Dims.Rf >= options.MinEvals && (long)e.Dims.M * e.Dims.Rf <= options.MaxEvals && e.Dims.N <= MaxN)
            .ToList();
        if (layers.Count == 0)
            throw new InvalidDataException($"{path}: no 2-D or 4-D floating-point weight with M·rf in [{options.MinEvals}, {options.MaxEvals}] " +
                $"(of {source.Entries.Count} tensors)");
        ProgramCommand.CreateOutput(output);
        Console.WriteLine($"{path}: {layers.Count} weight matrices of {source.Entries.Count} tensors; output {Path.GetFullPath(output)}");

        // The adapter's checks (a base without an adapted weight) come before any result file is written.
        if (source.Adapter is not null) AdapterReport.Run(source.Adapter, options.Base, output);
        var rows = new List<LayerMetrics>();
        var plotted = new List<(string Layer, string SvgPath)>();
        var random = new Random(options.Seed);
        var progress = new StepProgress("ESD of the layers", layers.Count);
        // Plots are drawn into a staging folder that replaces esd/ only once every layer is done, so a run that fails
        // midway leaves the previous results whole (or none), never new plots beside old tables.
        string plots = Path.Combine(output, $".esd-{Guid.NewGuid():N}"), final = Path.Combine(output, "esd");
        try
        {
            Analyse();
            Dictionary<string, double> summary = Summary(rows);
            PrintTable(rows, summary, options.Randomize);
            string html = HtmlReport.Render(Path.GetFullPath(path), rows, summary, plotted);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            if (options.Plots) Directory.Move(plots, final);
            OutputFile.WriteAllLines(Path.Combine(output, "details.csv"), Csv(rows, options.Randomize));
            OutputFile.WriteAllText(Path.Combine(output, "details.json"), JsonSerializer.Serialize(
                new { file = Path.GetFullPath(path), summary, details = rows.Select(r => Row(r, options.Randomize)) }, s_json));
            OutputFile.WriteAllText(Path.Combine(output, "report.html"), html);
        }
        finally
        {
            if (Directory.Exists(plots)) Directory.Delete(plots, recursive: true);
        }
        Console.WriteLine($"wrote details.csv, details.json, report.html{(options.Plots ? ", esd/" : "")} to {Path.GetFullPath(output)}");
        return 0;

        void Analyse() => progress.Run(() =>
        {
            foreach (var (name, shape, _) in layers)
            {
                using (NewDisposeScope())
                {
                    Tensor weight = source.Load(name);
                    Esd esd = Esd.Of(weight, name);
                    (double[], double[])? randomized = null;
                    if (options.Randomize)
                    {
                        // apply_random_esd: 5 replicas for the MP fit when the layer has fewer than 100 eigenvalues, one for rand_distance.
                        double[] replicas = Esd.Randomized(weight, esd.Eigenvalues.Length < 100 ? 5 : 1, random);
                        randomized = (Esd.Randomized(weight, 1, random), replicas);
                    }
                    LayerMetrics row = LayerMetrics.Of(rows.Count, name, shape, esd, randomized);
                    rows.Add(row);
                    if (options.Plots && esd.Eigenvalues[^1] > 0) // a zero matrix has nothing to draw on log axes
                        plotted.Add((name, EsdPlot.Save(Path.Combine(plots, $"{row.LayerId:D3}_{FileName(name)}"), row, esd.Eigenvalues, randomized?.Item2)[1]));
                }
                progress.Step();
            }
        });
    }

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>get_summary: the mean of each metric over the layers (NaN, a failed fit, left out; pandas skips NaN too,
    /// but WeightWatcher's −1 for a failed fit would count).</summary>
    public static Dictionary<string, double> Summary(IReadOnlyList<LayerMetrics> rows) => SummaryMetrics.ToDictionary(m => m, m =>
    {
        double[] values = rows.Select(r => Columns.Single(c => c.Name == m).Value(r)).Where(double.IsFinite).ToArray();
        return values.Length == 0 ? double.NaN : values.Average();
    });

    /// <summary>The CSV and table columns, in WeightWatcher's names.</summary>
    public static readonly (string Name, Func<LayerMetrics, double> Value)[] Columns =
    [
        ("N", r => r.N), ("M", r => r.M), ("rf", r => r.Rf), ("num_evals", r => r.NumEvals),
        ("alpha", r => r.Alpha), ("xmin", r => r.XMin), ("D", r => r.D), ("sigma", r => r.Sigma), ("num_pl_spikes", r => r.NumPlSpikes),
        ("norm", r => r.Norm), ("log_norm", r => r.LogNorm), ("spectral_norm", r => r.SpectralNorm), ("log_spectral_norm", r => r.LogSpectralNorm),
        ("alpha_weighted", r => r.AlphaWeighted), ("log_alpha_norm", r => r.LogAlphaNorm), ("stable_rank", r => r.StableRank),
        ("matrix_rank", r => r.MatrixRank), ("entropy", r => r.Entropy), ("sv_max", r => r.SvMax), ("lambda_max", r => r.SpectralNorm),
        ("rank_loss", r => r.RankLoss), ("weak_rank_loss", r => r.WeakRankLoss),
        ("sigma_mp", r => r.SigmaMp), ("num_spikes", r => r.NumSpikes), ("mp_softrank", r => r.MpSoftrank), ("bulk_min", r => r.BulkMin), ("bulk_max", r => r.BulkMax),
    ];

    private static readonly (string Name, Func<LayerMetrics, double> Value)[] s_randomColumns =
        [("rand_distance", r => r.RandDistance), ("rand_num_spikes", r => r.RandNumSpikes ?? double.NaN), ("max_rand_eval", r => r.MaxRandEval)];

    private static Dictionary<string, object?> Row(LayerMetrics r, bool randomized)
    {
        var row = new Dictionary<string, object?> { ["layer_id"] = r.LayerId, ["name"] = r.Name, ["shape"] = r.Shape };
        foreach (var (name, value) in randomized ? [.. Columns, .. s_randomColumns] : Columns) row[name] = value(r);
        return row;
    }

    private static IEnumerable<string> Csv(List<LayerMetrics> rows, bool randomized)
    {
        static string Q(string s) => s.Contains(',') || s.Contains('"') ? $"\"{s.Replace("\"", "\"\"")}\"" : s;
        var columns = randomized ? [.. Columns, .. s_randomColumns] : Columns;
        yield return "layer_id,name,shape," + string.Join(",", columns.Select(c => c.Name));
        foreach (LayerMetrics r in rows)
            yield return string.Create(CultureInfo.InvariantCulture, $"{r.LayerId},{Q(r.Name)},{string.Join("x", r.Shape)},") +
                string.Join(",", columns.Select(c => c.Value(r).ToString("R", CultureInfo.InvariantCulture)));
    }

    private static string F(double v) => double.IsNaN(v) ? "—" : v.ToString("G4", CultureInfo.InvariantCulture);

    private static void PrintTable(List<LayerMetrics> rows, Dictionary<string, double> summary, bool randomized)
    {
        var table = new Table().AddColumns("#", "layer", "shape", "α", "D", "α̂ (weighted)", "log ‖·‖α", "log ‖W‖F²", "log λmax", "stable rank", "spikes", "MP softrank");
        if (randomized) table.AddColumns("rand. distance", "traps");
        foreach (LayerMetrics r in rows)
        {
            var cells = new List<string> { r.LayerId.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.Name), string.Join("×", r.Shape),
                F(r.Alpha), F(r.D), F(r.AlphaWeighted), F(r.LogAlphaNorm), F(r.LogNorm), F(r.LogSpectralNorm), F(r.StableRank),
                r.NumSpikes.ToString(CultureInfo.InvariantCulture), F(r.MpSoftrank) };
            if (randomized) cells.AddRange([F(r.RandDistance), r.RandNumSpikes?.ToString(CultureInfo.InvariantCulture) ?? "—"]);
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        Console.WriteLine("summary (means over the layers): " + string.Join(", ", summary.Select(p => $"{p.Key} {F(p.Value)}")));
    }

    // A layer name as a file name: anything but letters, digits, '-' and '_' becomes '_' (a '.' would read as an extension).
    internal static string FileName(string name) => new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
}
