using System.Globalization;
using LowRankBias.Cli;
using LowRankBias.Spectral;
using LowRankBias.Torch;
using Spectre.Console;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Tool.Analysis;

/// <summary>
/// Per module of a LoRA adapter: the rank r it was given, the rank ΔW = s·B·A actually uses (σ above σ₁·max(m, n)·ε of
/// float32, as torch.linalg.matrix_rank counts) and its effective rank exp(H), ‖ΔW‖₂ and — with the base checkpoint —
/// ‖W‖₂ and ‖ΔW‖₂/‖W‖₂; printed and written as adapter.csv.
/// </summary>
internal static class AdapterReport
{
    public sealed record Row(string Name, long[] Shape, int Rank, int UsedRank, double EffectiveRank, double DeltaNorm, double BaseNorm)
    {
        public double Relative => DeltaNorm / BaseNorm;
    }

    public static List<Row> Run(AdapterDeltas adapter, string? basePath, string output)
    {
        using WeightSource? baseSource = basePath is null ? null : new WeightSource(basePath);
        var baseShapes = baseSource?.Entries.ToDictionary(e => e.Name, e => e.Shape);
        foreach (AdapterDeltas.Module m in adapter.Modules)
        {
            if (baseShapes is null) break;
            if (!baseShapes.TryGetValue(m.Name, out long[]? shape))
                throw new InvalidDataException($"the base checkpoint {basePath} has no '{m.Name}', which the adapter changes");
            if (!shape.SequenceEqual(m.Shape))
                throw new InvalidDataException($"'{m.Name}' is [{string.Join(", ", shape)}] in the base {basePath} but the adapter's ΔW is [{string.Join(", ", m.Shape)}]");
        }
        var rows = new List<Row>();
        foreach (AdapterDeltas.Module m in adapter.Modules)
        {
            using var scope = NewDisposeScope();
            double[] sv = linalg.svdvals(WeightMatrices.AsMatrix(adapter.Delta(m.Name)!, m.Name).to(ScalarType.Float64)).ToArray<double>();
            double tolerance = sv[0] * Math.Max(m.Shape[0], m.Shape.Skip(1).Aggregate(1L, (a, b) => a * b)) * Math.Pow(2, -23);
            double baseNorm = baseSource is null ? double.NaN
                : linalg.svdvals(WeightMatrices.AsMatrix(baseSource.Load(m.Name), m.Name).to(ScalarType.Float64)).ToArray<double>()[0];
            rows.Add(new Row(m.Name, m.Shape, m.Rank, sv.Count(s => s > tolerance), sv[0] == 0 ? 0 : MatrixSpectrum.FromSingularValues(sv).EffectiveRank, sv[0], baseNorm));
        }

        static string F(double v) => double.IsNaN(v) ? "—" : v.ToString("G4", CultureInfo.InvariantCulture);
        var table = new Table().AddColumns("module", "ΔW shape", "r", "rank of ΔW", "eff. rank of ΔW", "‖ΔW‖₂", "‖W‖₂", "‖ΔW‖₂/‖W‖₂");
        foreach (Row r in rows)
            table.AddRow(Markup.Escape(r.Name), string.Join("×", r.Shape), r.Rank.ToString(CultureInfo.InvariantCulture), r.UsedRank.ToString(CultureInfo.InvariantCulture),
                F(r.EffectiveRank), F(r.DeltaNorm), F(r.BaseNorm), F(r.Relative));
        AnsiConsole.Write(table);
        OutputFile.WriteAllLines(Path.Combine(output, "adapter.csv"),
            ["module,shape,r,rank,effective_rank,delta_spectral_norm,base_spectral_norm,relative_spectral_norm",
             .. rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Name},{string.Join("x", r.Shape)},{r.Rank},{r.UsedRank},{r.EffectiveRank:R},{r.DeltaNorm:R},{r.BaseNorm:R},{r.Relative:R}"))]);
        return rows;
    }
}
