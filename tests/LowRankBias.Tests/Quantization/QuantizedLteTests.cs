using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Quantization;
using LowRankBias.Torch.Tests;
using Xunit.Abstractions;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Tests.Quantization;

/// <summary>LTE on quantized base weights: training through merges that re-quantize, the evaluation scope restoring the
/// codes bit for bit, and the error of 100 merges against the exact full-precision sum of the updates.</summary>
public sealed class QuantizedLteTests(ITestOutputHelper output)
{
    private static LteOptions Options => new()
    {
        Heads = 2, Rank = 4, Alpha = 8, MergeEvery = 5, Exclude = new[] { "head" }, BaseQuantization = new QuantizationConfig(),
    };

    [Fact]
    public void Lte_trains_through_requantizing_merges_and_evaluation_restores_the_codes()
    {
        using var scope = torch.NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new QuantMlp(1), Options);
        QuantizedLayer quantized = ((LoraLayer)lte.model.get_submodule("fc1")).quantized_base!;
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.01 }));
        var trainer = new LteTrainer(lte, adamW, (o, t) => F.mse_loss(o, t));
        Tensor x = QuantMlp.Input(20, 8), y = TestData.Randn(21, 8, QuantMlp.Out).to(ScalarType.Float32);
        Tensor codes = quantized.quantized_state().First().clone();

        double first = trainer.Step(x, y), last = first;
        for (int step = 1; step < 60; step++) last = trainer.Step(x, y);

        Assert.Equal(12, trainer.Merges);
        Assert.True(last < 0.3 * first, $"loss {first} -> {last}");
        Assert.False(torch.allclose(codes.to(ScalarType.Float64), quantized.quantized_state().First().to(ScalarType.Float64), 0, 0), "merges never changed the codes");
        Tensor[] before = quantized.quantized_state().Select(t => t.clone()).ToArray();
        lte.eval();
        using (Tensor evaluated = lte.call(x)) { }
        Tensor[] after = quantized.quantized_state().ToArray();
        for (int i = 0; i < before.Length; i++) Assert.True(torch.allclose(before[i].to(ScalarType.Float64), after[i].to(ScalarType.Float64), 0, 0), $"state {i} not restored");
    }

    /// <summary>
    /// W_{k+1} = q(deq(W_k) + U_k) against the exact W*_{k+1} = W*_k + U_k. The error e_k = deq(W_k) − W*_k changes at a
    /// merge by that merge's rounding alone (e_{k+1} = e_k + r_k, |r_k| ≤ one level gap × the block scale), so after K
    /// merges it is a sum of K roundings. Stochastic rounding makes them zero-mean, so the error grows like √K and the
    /// updates are kept on average however small; rounding to nearest drops updates below half a gap (stagnation).
    /// </summary>
    [Theory]
    [InlineData(true, false, 1.0)]
    [InlineData(true, true, 1.0)]
    [InlineData(true, false, 0.1)]
    [InlineData(false, false, 1.0)]
    [InlineData(false, false, 0.1)]
    public void Merge_errors_over_100_merges_are_a_sum_of_single_roundings(bool stochastic, bool doubleQuant, double updateSize)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        var model = new QuantMlp(2);
        Tensor original = ((LowRankBias.Torch.Modules.Linear)model.fc1).weight.clone();
        using var lte = new LowRankBias.Lte.Lte(model, Options with
        {
            MergeEvery = 0, NonLowRank = LteNonLowRank.Frozen,
            BaseQuantization = new QuantizationConfig { use_double_quant = doubleQuant, stochastic_rounding = stochastic },
        });
        var fc1 = (LoraLayer)lte.model.get_submodule("fc1");
        QuantizedLayer quantized = fc1.quantized_base!;
        Tensor start = quantized.dequantize().to(ScalarType.Float64), exact = start.clone();
        double oneShot = Rms(quantized.dequantize() - original), sumOfRoundings = 0;
        const int merges = 100;
        for (int k = 0; k < merges; k++)
        {
            using var step = torch.NewDisposeScope();
            DrawHeads(fc1, 100 + k, targetRms: updateSize * oneShot, lte);
            Tensor update = lte.weight_update("fc1").to(ScalarType.Float64);
            Tensor errorBefore = quantized.dequantize().to(ScalarType.Float64) - exact;
            Tensor target = quantized.dequantize().to(ScalarType.Float64) + update;
            exact.add_(update);
            lte.Merge();
            Tensor rounding = quantized.dequantize().to(ScalarType.Float64) - exact - errorBefore;
            double bound = target.abs().max().item<double>() * QuantMlp.HalfWidestGap * (stochastic ? 2 : 1) + (doubleQuant ? DoubleQuantSlack(quantized) : 0);
            Assert.True(rounding.abs().max().item<double>() <= bound * 1.0001, $"merge {k}: one merge moved the error by more than one rounding");
            sumOfRoundings += Rms(rounding);
        }
        Tensor moved = quantized.dequantize().to(ScalarType.Float64) - start, wanted = exact - start;
        double final = Rms(quantized.dequantize().to(ScalarType.Float64) - exact);
        double kept = (moved * wanted).sum().item<double>() / wanted.square().sum().item<double>();
        output.WriteLine($"stochastic {stochastic}, double quant {doubleQuant}, update {updateSize} x one rounding: one-shot rms {oneShot:G4}, " +
            $"after {merges} merges rms {final:G4} ({final / oneShot:F2}x one-shot; random walk of the roundings: {Math.Sqrt(merges) * sumOfRoundings / merges:G4}), " +
            $"share of the summed updates kept {kept:F3}");
        if (stochastic)
        {
            Assert.InRange(final, 0, 1.5 * Math.Sqrt(merges) * sumOfRoundings / merges);   // √K growth, no drift
            Assert.InRange(kept, 0.9, 1.1);
        }
        else if (updateSize < 0.5) Assert.InRange(kept, 0, 0.5);                          // rounding to nearest loses small updates
    }

    // Double quantization also rounds the scales: each weight may move by one step of the scale's 8-bit code.
    private static double DoubleQuantSlack(QuantizedLayer quantized) =>
        quantized.state_dict()["weight.nested_absmax"].max().item<float>() / 127.0;

    private static void DrawHeads(LoraLayer layer, int seed, double targetRms, LowRankBias.Lte.Lte lte)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor b = layer.lora_B["default"];
        b.copy_(TestData.Randn(seed, b.shape));
        b.mul_(targetRms / Rms(lte.weight_update("fc1")));
    }

    private static double Rms(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return t.to(ScalarType.Float64).square().mean().sqrt().item<double>();
    }
}
