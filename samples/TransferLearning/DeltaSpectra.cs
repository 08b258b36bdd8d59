using LowRankBias.Lora;

namespace LowRankBias.Samples.TransferLearning;

/// <summary>The spectrum of one convolution's learned update ΔW, flattened to [out, in·k·k].</summary>
internal sealed record MatrixSpectrumRow(string Layer, int Index, double EffectiveRank, double StableRank, double[] SingularValues);

/// <summary>
/// What fine-tuning changed in each convolution: ΔW = s·BA of a LoRA model, or W_finetuned − W_pretrained of a fully
/// fine-tuned one; its singular values, effective rank (exp of the entropy of σ/Σσ) and stable rank (‖ΔW‖F²/‖ΔW‖₂²).
/// </summary>
internal static class DeltaSpectra
{
    /// <summary>Layers drawn in the singular-value figure: an early, a middle and a late convolution.</summary>
    private static readonly string[] Shown = ["layer1.0.conv1", "layer3.0.conv2", "layer4.1.conv2"];

    public static List<MatrixSpectrumRow> Of(Method method, Module model, Pretrained pretrained)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var deltas = new List<(string name, Tensor weight)>();
        if (model is LoraModel lora)
            foreach ((string path, LoraLayer layer) in lora.lora_layers()) deltas.Add((path, layer.get_delta_weight("default")));
        else
            foreach ((string name, Module module) in model.named_modules())
                if (module is Conv2d conv) deltas.Add((name, conv.weight - pretrained.Backbone[name + ".weight"]));
        if (deltas.Count == 0) throw new InvalidOperationException($"{method.Name}: no convolution to analyse");
        return SpectralMetrics.Analyze(deltas, new SpectralOptions { FitPowerLaw = false, ComputeInFloat64 = false })
            .Select((s, i) => new MatrixSpectrumRow(s.Name, i, s.EffectiveRank, s.StableRank, s.SingularValues)).ToList();
    }

    /// <summary>delta-effective-rank (per convolution, both methods) and delta-singular-values (σᵢ/σ₁ of <see cref="Shown"/>).</summary>
    public static void Plot(string output, IReadOnlyList<(string method, MatrixSpectrumRow row)> spectra)
    {
        var byMethod = spectra.GroupBy(s => s.method).ToList();
        string[] layers = byMethod[0].Select(s => s.row.Layer).ToArray();
        new LineChart
        {
            Title = "Effective and stable rank of the learned ΔW per convolution (seed 0)", XLabel = "convolution (0 = stem; in network order)",
            YLabel = "rank of ΔW", LogX = false, Markers = true,
        }.Save(Path.Combine(output, "delta-effective-rank.svg"), byMethod.SelectMany(g => new[]
        {
            new ChartSeries($"{g.Key}: effective rank", g.Select(s => ((double)s.row.Index, s.row.EffectiveRank)).ToArray()),
            new ChartSeries($"{g.Key}: stable rank", g.Select(s => ((double)s.row.Index, s.row.StableRank)).ToArray()),
        }).ToArray());

        var series = new List<ChartSeries>();
        foreach (var g in byMethod)
            foreach (var (_, row) in g.Where(s => Shown.Contains(s.row.Layer)))
            {
                double top = row.SingularValues[0];
                // Values below 1e-6 σ₁ are rounding noise (a rank-16 ΔW has exactly 16 non-zero singular values).
                series.Add(new ChartSeries($"{g.Key}: {row.Layer}", row.SingularValues.Take(64).Select((v, i) => (i + 1.0, v / top)).Where(q => q.Item2 > 1e-6).ToArray()));
            }
        if (series.Count == 0) return;
        new LineChart
        {
            Title = "Singular values of the learned ΔW (seed 0), relative to the largest", XLabel = "index i", YLabel = "σᵢ / σ₁", LogX = false, LogY = true, Markers = false,
        }.Save(Path.Combine(output, "delta-singular-values.svg"), series);
    }
}
