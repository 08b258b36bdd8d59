using LowRankBias.Lte;
using LowRankBias.Spectral;
using LowRankBias.Torch.Optim;
using static LowRankBias.Tests.Lora.LoraTestKit;
using static LowRankBias.Tests.Lte.LteTestKit;

namespace LowRankBias.Tests.Lte;

/// <summary>Head diagnostics and the section 4.5 memory/communication accounting against the actual tensors.</summary>
public sealed class LteDiagnosticsTests
{
    private const int Heads = 3, Rank = 2;

    [Fact]
    public void AccountingCountsTheRealHeadsStateAndThePapersFormulas()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), new LteOptions { Heads = Heads, Rank = Rank, Alpha = 4, MergeEvery = 5, Exclude = new[] { "head" } });
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions()));
        new LteTrainer(lte, adamW, Mse).Step(Batch(0, 6).x, Batch(0, 6).y);

        LteAccounting a = LteAccounting.Of(lte, adamW, quantization: 0.25);
        // One head trains fc1's A [2, 6] and B [8, 2], its fc1 bias replica [8] and the head layer's weight [3, 8] and bias [3].
        const long mLte = Rank * Mlp.In + Mlp.Hidden * Rank + Mlp.Hidden + Mlp.Out * Mlp.Hidden + Mlp.Out;
        const long m = Mlp.Hidden * Mlp.In + Mlp.Hidden + Mlp.Out * Mlp.Hidden + Mlp.Out;
        Assert.Equal(mLte, a.HeadParameters);
        Assert.Equal(m, a.ModelParameters);
        Assert.Equal(2 * mLte * 8, a.OptimizerBytesPerHead);       // AdamW's two float64 moments
        Assert.Equal(8, a.ElementBytes);
        Assert.Equal(3.0 * m * 8, a.DdpMemoryBytesPerDevice);
        Assert.Equal((0.25 * m + 3 * mLte) * 8, a.LteMemoryBytesPerDevice);
        Assert.Equal(3 * 2 * m * 8.0, a.DdpAllReduceBytesPerStep);
        Assert.Equal(3 * 2 * mLte * 8.0, a.LteAllReduceBytesPerMerge);
        Assert.Equal(2 * 2 * m * 8.0, a.DdpParameterServerBytesPerStep);
        Assert.Equal((2 * mLte + 2 * 0.25 * m) * 8, a.LteParameterServerBytesPerMerge);
        Assert.Equal(5, a.MergeEvery);
    }

    [Fact]
    public void DiagnosticsReuseTheHeadMetricsAndMeasureThePendingUpdate()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), new LteOptions { Heads = Heads, Rank = Rank, Alpha = 4, MergeEvery = 0, NonLowRank = LteNonLowRank.Frozen });
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        for (int step = 0; step < 3; step++) trainer.Step(Batch(step, 6).x, Batch(step, 6).y);

        IReadOnlyList<LteLayerDiagnostics> all = LteDiagnostics.Measure(lte);
        Assert.Equal(["fc1", "head"], all.Select(d => d.Path));
        LteLayerDiagnostics fc1 = all[0];
        var layer = LoraAt(lte, "fc1");
        Tensor a = layer.lora_A["default"], b = layer.lora_B["default"];
        Assert.Equal(LoraHeadMetrics.MeanPairwiseCosineSimilarity(a, b), fc1.MeanCosineSimilarity);
        Assert.Equal(LoraHeadMetrics.MeanPairwiseGrassmannDistance(a, b), fc1.MeanGrassmannDistance);

        // Independent effective rank of (s/N) Σ BₙAₙ: exp of the entropy of its normalised singular values (MathNet).
        var update = M(Head(b, 0)) * M(Head(a, 0)) + M(Head(b, 1)) * M(Head(a, 1)) + M(Head(b, 2)) * M(Head(a, 2));
        double[] s = (update * (2.0 / Heads)).Svd().S.ToArray();
        double[] p = s.Select(v => v / s.Sum()).ToArray();
        double expected = Math.Exp(-p.Where(v => v > 0).Sum(v => v * Math.Log(v)));
        Assert.Equal(expected, fc1.UpdateEffectiveRank, 6);
        Assert.InRange(fc1.UpdateEffectiveRank, 1.0, Heads * Rank);
    }
}
