using System.Globalization;
using System.Text.Json;
using LowRankBias.Cli;
using LowRankBias.Torch;
using Spectre.Console;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Tool.Analysis;

/// <summary>
/// <c>lowrankbias compare BEFORE AFTER</c>: per weight matrix present in both checkpoints, <see cref="LayerChange"/> —
/// relative change, top singular values and effective rank before and after, top-k subspace overlap and PEFT's intruder
/// dimensions — as a table, compare.csv and compare.json. The two files must hold the same matrices with the same shapes.
/// </summary>
internal static class CompareCommand
{
    private static readonly ScalarType[] s_floating = [ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16];

    public static int Run(string beforePath, string afterPath, string output, int topK, double threshold)
    {
        if (topK < 1) throw new ArgumentException($"--top-k {topK}: must be at least 1");
        if (!(threshold is > 0 and <= 1)) throw new ArgumentException($"--threshold {threshold.ToString(CultureInfo.InvariantCulture)}: must lie in (0, 1]");
        using var before = new WeightSource(beforePath);
        using var after = new WeightSource(afterPath);
        var matrices = Matrices(before);
        var others = Matrices(after).ToDictionary(e => e.Name, e => e.Shape);
        string? missing = matrices.Select(e => e.Name).Concat(others.Keys).FirstOrDefault(n => !others.ContainsKey(n) || matrices.All(e => e.Name != n));
        if (missing is not null)
            throw new InvalidDataException($"{beforePath} and {afterPath} do not hold the same weight matrices: '{missing}' is in only one of them");
        var (name, shape) = matrices.FirstOrDefault(e => !e.Shape.SequenceEqual(others[e.Name]));
        if (name is not null)
            throw new InvalidDataException($"'{name}' is [{string.Join(", ", shape)}] in {beforePath} but [{string.Join(", ", others[name])}] in {afterPath}");
        if (matrices.Count == 0) throw new InvalidDataException($"{beforePath}: no 2-D or 4-D floating-point weight to compare");
        ProgramCommand.CreateOutput(output);

        var rows = new List<LayerChange>();
        var progress = new StepProgress("changes of the layers", matrices.Count);
        progress.Run(() =>
        {
            foreach (var (n, _) in matrices)
            {
                using (NewDisposeScope()) rows.Add(LayerChange.Of(n, before.Load(n), after.Load(n), topK, threshold));
                progress.Step();
            }
        });

        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160;
        var table = new Table().AddColumns("layer", "shape", "‖ΔW‖F/‖W‖F", "σ₁ before", "σ₁ after", "eff. rank before", "eff. rank after", "top-k overlap", "intruders");
        foreach (LayerChange r in rows)
            table.AddRow(Markup.Escape(r.Name), string.Join("×", r.Shape), F(r.RelativeChange), F(r.TopSingularValuesBefore[0]), F(r.TopSingularValuesAfter[0]),
                F(r.EffectiveRankBefore), F(r.EffectiveRankAfter), F(r.SubspaceOverlap), r.Intruders.Length.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        OutputFile.WriteAllLines(Path.Combine(output, "compare.csv"), Csv(rows));
        OutputFile.WriteAllText(Path.Combine(output, "compare.json"), JsonSerializer.Serialize(new
        {
            before = Path.GetFullPath(beforePath), after = Path.GetFullPath(afterPath), top_k = topK, threshold,
            layers = rows.Select(r => new
            {
                name = r.Name, shape = r.Shape, k = r.K, relative_change = r.RelativeChange, top_singular_values_before = r.TopSingularValuesBefore,
                top_singular_values_after = r.TopSingularValuesAfter, effective_rank_before = r.EffectiveRankBefore,
                effective_rank_after = r.EffectiveRankAfter, subspace_overlap = r.SubspaceOverlap, intruders = r.Intruders,
            }),
        }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Console.WriteLine($"wrote compare.csv, compare.json to {Path.GetFullPath(output)}");
        return 0;
    }

    private static List<(string Name, long[] Shape)> Matrices(WeightSource source) =>
        source.Entries.Where(e => s_floating.Contains(e.DType) && e.Shape.Length is 2 or 4 && e.Shape.All(d => d > 0)).Select(e => (e.Name, e.Shape)).ToList();

    private static IEnumerable<string> Csv(List<LayerChange> rows)
    {
        static string Q(string s) => s.Contains(',') || s.Contains('"') ? $"\"{s.Replace("\"", "\"\"")}\"" : s;
        yield return "name,shape,k,relative_change,sigma1_before,sigma1_after,effective_rank_before,effective_rank_after,subspace_overlap,intruders";
        foreach (LayerChange r in rows)
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{Q(r.Name)},{string.Join("x", r.Shape)},{r.K},{r.RelativeChange:R},{r.TopSingularValuesBefore[0]:R},{r.TopSingularValuesAfter[0]:R},{r.EffectiveRankBefore:R},{r.EffectiveRankAfter:R},{r.SubspaceOverlap:R},{r.Intruders.Length}");
    }

    private static string F(double v) => double.IsNaN(v) ? "—" : v.ToString("G4", CultureInfo.InvariantCulture);
}
