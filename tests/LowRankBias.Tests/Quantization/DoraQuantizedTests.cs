using LowRankBias.Lora;
using LowRankBias.Torch.Quantization;
using LowRankBias.Torch.Tests;

namespace LowRankBias.Tests.Quantization;

/// <summary>DoRA on NF4 and int8 bases: the norm is that of the dequantized weight, a merge re-quantizes DoRA's weight within one
/// rounding of a float64 oracle, and unmerging gives the codes back (or, after an edit, the base within the quantization error).</summary>
public sealed class DoraQuantizedTests
{
    private const ScalarType F64 = ScalarType.Float64;

    [Theory]
    [InlineData(QuantizationConfig.NF4)]
    [InlineData(QuantizationConfig.Int8)]
    public void Merge_and_unmerge_stay_within_the_quantization_error_of_a_float64_oracle(string quantType)
    {
        using var scope = NewDisposeScope();
        var config = new LoraConfig
        {
            r = 4, lora_alpha = 8, use_dora = true, target_modules = new[] { "fc1" }, base_quantization = new QuantizationConfig { quant_type = quantType },
        };
        using var lora = new LoraModel(new QuantMlp(2), config);
        var fc1 = (LoraLinear)lora.model.get_submodule("fc1");
        QuantizedLayer quantized = fc1.quantized_base!;
        Tensor magnitude = fc1.get_parameter("lora_magnitude_vector.default");
        Tensor baseQ = quantized.dequantize().to(F64);
        Assert.True(allclose(baseQ.norm(2, [1]), magnitude.to(F64), 1e-6, 0), "the magnitude starts at the norms of the dequantized weight");
        LoraTestKitFloat.Randomize(fc1, 5, scale: 0.05);
        // k ≈ 2, so a merge that ignored the magnitude would be off by about |W|, far beyond one rounding.
        using (no_grad()) magnitude.mul_((TestData.Randn(9, magnitude.shape) * 0.1 + 2).to(ScalarType.Float32));

        // The oracle, from the dequantized base in float64: m / ‖Wq + s·BA‖ ⊙ (Wq + s·BA), s = 2.
        Tensor sum = baseQ + 2.0 * fc1.lora_B["default"].to(F64).mm(fc1.lora_A["default"].to(F64));
        Tensor k = (magnitude.to(F64) / sum.norm(2, [1])).unsqueeze(1);
        Tensor exact = k * sum;
        Tensor[] codesBefore = quantized.quantized_state().Select(t => t.clone()).ToArray();
        lora.merge();
        AssertWithinRoundings(quantType, exact, quantized.dequantize().to(F64), 1, "merge");

        lora.unmerge();   // the codes were not touched since the merge: they come back bit for bit
        foreach ((Tensor saved, Tensor now) in codesBefore.Zip(quantized.quantized_state())) Assert.True(allclose(saved.to(F64), now.to(F64), 0, 0));

        // Edited after the merge, the base comes back as W'/k − ΔW: Wq + E/k, within the roundings of both writes.
        lora.merge();
        Tensor edit = TestData.Randn(13, quantized.dequantize().shape) * 0.01;
        quantized.requantize_((quantized.dequantize().to(F64) + edit).to(ScalarType.Float32));
        lora.unmerge();
        AssertWithinRoundings(quantType, baseQ + edit / k, quantized.dequantize().to(F64), 3, "unmerge after an edit");
    }

    // |actual − expected| ≤ roundings × one rounding of its scale group: NF4 moves an element by less than the widest gap
    // between levels times the absmax of its block of 64, int8 by less than one step, absmax/127, of its row (stochastic
    // rounding: to one of the two neighbouring levels); ×1.1 for the scale of the absmax after the edit.
    private static void AssertWithinRoundings(string quantType, Tensor expected, Tensor actual, int roundings, string what)
    {
        long group = quantType == QuantizationConfig.NF4 ? 64 : expected.size(1);
        double step = quantType == QuantizationConfig.NF4 ? 2 * QuantMlp.HalfWidestGap : 1.0 / 127;
        Tensor groupMax = expected.reshape(-1, group).abs().amax([1], keepdim: true);
        Tensor error = (actual - expected).reshape(-1, group).abs();
        Assert.True((error <= groupMax * (roundings * step * 1.1)).all().item<bool>(), $"{what}: an element moved more than {roundings} rounding(s)");
        Assert.True(error.max().item<double>() > 0, $"{what}: nothing was rounded, so the check saw no quantization");
    }
}
