using LowRankBias.Overparam;

namespace OverparamExperiments;

/// <summary>
/// Thesis figure 2.7: the singular values of the Gram matrix of the CNN's penultimate features (cosine kernel, the thesis default; 500
/// test images), normalised by the largest and sorted, at points through training — for the original CNN and for it
/// over-parameterised ×4 (FC and conv; FC only under the converged preset, each model at the rate the cnn experiment
/// chose when its record is in the output folder). The expanded model's spectrum should fall off faster: a lower-rank embedding.
/// </summary>
internal static class GramDynamics
{
    internal const int Images = 500;
    private const int Shown = 64;

    public static void Run(Preset p, string outDir)
    {
        using TensorDataset trainAll = FashionMnist.Load(train: true), testAll = FashionMnist.Load(train: false);
        using TensorDataset train = trainAll.Take(p.CnnTrainImages), probeSet = testAll.Take(Images);
        long steps = p.CnnEpochs * (long)Math.Ceiling(p.CnnTrainImages / 128.0);
        var rows = new CsvTable("model", "step", "index", "normalized_singular_value");
        var summary = new SummaryTable("model", "step", "effective rank of the Gram matrix", "σ₁₀/σ₁", "σ₅₀/σ₁");
        // The over-parameterised model: "both ×4" where the preset expands convolutions; FC ×4 under the converged preset,
        // which trains FC expansions only (its both ×4 was never run there).
        CnnComparison.Config expanded = p.CnnExpandConvolutions ? new("both ×4", 4, ExpansionTargets.All, null, 0) : new("FC ×4", 4, ExpansionTargets.Linear, null, 0);
        foreach (CnnComparison.Config config in new CnnComparison.Config[] { new("original", 1, ExpansionTargets.All, null, 0), expanded })
        {
            var series = new List<ChartSeries>();
            void Probe(Module model, long step)
            {
                double[] sigma = Spectrum(model, probeSet.tensors[0], out double effectiveRank);
                double[] normalised = sigma.Select(s => s / sigma[0]).ToArray();
                for (int i = 0; i < Math.Min(Shown, normalised.Length); i++) rows.Add(config.Name, step, i + 1, normalised[i]);
                series.Add(new ChartSeries($"step {step:N0}", normalised.Take(Shown).Select((v, i) => ((double)i + 1, v)).ToList()));
                summary.AddRow(config.Name, step.ToString("N0", CultureInfo.InvariantCulture), effectiveRank.ToString("F1", CultureInfo.InvariantCulture),
                    normalised[9].ToString("G3", CultureInfo.InvariantCulture), normalised[49].ToString("G3", CultureInfo.InvariantCulture));
            }
            CnnComparison.Train(p, config, ChosenRate(outDir, config.Name) ?? p.CnnRatesFor(config.Name)[0], train, probeSet, seed: 0, probe: Probe, probeEvery: Math.Max(1, steps / 4));
            new LineChart
            {
                Title = $"Gram matrix of the penultimate features, {config.Name}", XLabel = "index i", YLabel = "σᵢ / σ₁", LogY = true,
            }.Save(Path.Combine(outDir, $"gram_spectrum_{(config.Depth == 1 ? "original" : "overparam")}.svg"), series);
        }
        rows.Save(Path.Combine(outDir, "gram_spectrum.csv"));
        summary.Write(Path.Combine(outDir, "gram_spectrum.md"));
    }

    // The rate the cnn experiment chose for this configuration (cnn_fashion_mnist.csv in the same output folder, its
    // "chosen" rows), so that the spectra are those of the models that converged there; null without that record.
    private static double? ChosenRate(string outDir, string config)
    {
        string path = Path.Combine(outDir, "cnn_fashion_mnist.csv");
        if (!File.Exists(path)) return null;
        string? row = File.ReadLines(path).Skip(1).Select(l => l.Split(',')).Where(c => c[0] == config && c[^1] == "yes").Select(c => c[1]).FirstOrDefault();
        return row is null ? null : double.Parse(row, CultureInfo.InvariantCulture);
    }

    /// <summary>The Gram matrix's singular values, largest first, of the input of the classifier fc2 on <paramref name="images"/>.</summary>
    internal static double[] Spectrum(Module model, Tensor images, out double effectiveRank)
    {
        using var scope = NewDisposeScope();
        Tensor? features = null;
        Module classifier = model.named_modules().First(m => m.name == "fc2").module;
        // The hook runs inside the forward pass's own dispose scope: the copy is detached from it and freed here.
        using (classifier.register_forward_pre_hook((_, input) => { features = input.detach().clone().DetachFromDisposeScope(); return null; }))
        using (no_grad())
        {
            model.eval();
            model.call(images).Dispose();
            model.train();
        }
        using Tensor captured = features!;
        MatrixSpectrum spectrum = GramMatrix.Spectrum(captured);
        effectiveRank = spectrum.EffectiveRank;
        return spectrum.SingularValues;
    }
}
