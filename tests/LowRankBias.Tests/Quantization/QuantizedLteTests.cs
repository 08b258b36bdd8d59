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
    /// merge by the rounding r_k of that merge alone (e_{k+1} = e_k + r_k, |r_k| ≤ half the widest level gap × the block
    /// scale), so it is a sum of roundings: it grows like √k when they are unbiased and like k if rounding drifted one way.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Merge_error_grows_as_a_random_walk_of_single_roundings_over_100_merges(bool doubleQuant)
    {
        using var scope = torch.NewDisposeScope();
        var model = new QuantMlp(2);
        Tensor original = ((LowRankBias.Torch.Modules.Linear)model.fc1).weight.clone();
        using var lte = new LowRankBias.Lte.Lte(model, Options with
        {
            MergeEvery = 0, NonLowRank = LteNonLowRank.Frozen, BaseQuantization = new QuantizationConfig { use_double_quant = doubleQuant },
        });
        var fc1 = (LoraLayer)lte.model.get_submodule("fc1");
        QuantizedLayer quantized = fc1.quantized_base!;
        Tensor exact = quantized.dequantize().to(ScalarType.Float64);
        double oneShot = Rms(quantized.dequantize() - original);
        double sumOfRoundings = 0;
        const int merges = 100;
        for (int k = 0; k < merges; k++)
        {
            using var step = torch.NewDisposeScope();
            // An update as large as one rounding (smaller ones are rounded away; see docs/results.md).
            DrawHeads(fc1, 100 + k, targetRms: oneShot, lte);
            Tensor update = lte.weight_update("fc1").to(ScalarType.Float64);
            Tensor errorBefore = quantized.dequantize().to(ScalarType.Float64) - exact;
            exact.add_(update);
            Tensor target = quantized.dequantize().to(ScalarType.Float64) + update;
            lte.Merge();
            Tensor errorAfter = quantized.dequantize().to(ScalarType.Float64) - exact;
            Tensor rounding = errorAfter - errorBefore;
            double bound = target.abs().max().item<double>() * QuantMlp.HalfWidestGap + (doubleQuant ? DoubleQuantSlack(quantized) : 0);
            Assert.True(rounding.abs().max().item<double>() <= bound * 1.0001, $"merge {k}: one merge moved the error by more than one rounding");
            sumOfRoundings += Rms(rounding);
        }
        double final = Rms(quantized.dequantize().to(ScalarType.Float64) - exact);
        output.WriteLine($"double quant {doubleQuant}: one-shot rms {oneShot:G4}, after {merges} merges rms {final:G4} " +
            $"({final / oneShot:F2}x), sum of per-merge rms {sumOfRoundings:G4}");
        // A random walk of 100 roughly independent roundings: about √100 = 10 times one; drift would give up to 100 times.
        Assert.InRange(final, 0, 3 * Math.Sqrt(merges) * sumOfRoundings / merges);
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
