using LowRankBias.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Quantization;
using LowRankBias.Torch.Tests;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Tests.Quantization;

/// <summary>LoRA on quantized bases (QLoRA): the forward pass, training that leaves the base alone, merging within one
/// rounding, unchanged PEFT adapters, and the errors of quantizing twice or with a block that does not fit.</summary>
public sealed class QuantizedLoraTests
{
    private static LoraConfig Config => new() { r = 4, lora_alpha = 8, target_modules = new[] { "fc1", "head" }, base_quantization = new QuantizationConfig() };

    [Fact]
    public void Forward_is_the_dequantized_base_plus_the_adapter_and_training_moves_only_the_factors()
    {
        using var scope = torch.NewDisposeScope();
        using var lora = new LoraModel(new QuantMlp(1), Config);
        var fc1 = (LoraLinear)lora.model.get_submodule("fc1");
        QuantizedLayer quantized = fc1.quantized_base ?? throw new Xunit.Sdk.XunitException("fc1's base is not quantized");
        Assert.Throws<InvalidOperationException>(() => fc1.weight);
        LoraTestKitFloat.Randomize(fc1, 3);

        Tensor x = QuantMlp.Input(10, 6);
        Tensor expected = F.linear(x, quantized.dequantize(), quantized.bias) + F.linear(F.linear(x, fc1.lora_A["default"]), fc1.lora_B["default"]) * 2.0;
        Assert.True(torch.allclose(fc1.call(x), expected, rtol: 1e-5, atol: 1e-6));

        Tensor[] stateBefore = quantized.quantized_state().Select(t => t.clone()).ToArray();
        Tensor target = TestData.Randn(11, 6, QuantMlp.Out).to(ScalarType.Float32);
        using var adamW = new AdamW(lora.parameters().Where(p => p.requires_grad), lr: 0.01);
        double first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            adamW.zero_grad();
            Tensor loss = F.mse_loss(lora.call(x), target);
            loss.backward();
            adamW.step();
            (first, last) = (step == 0 ? loss.item<float>() : first, loss.item<float>());
        }
        Assert.True(last < 0.2 * first, $"loss {first} -> {last}");
        Assert.All(lora.parameters().Where(p => p.requires_grad), p => Assert.Contains(p, lora.lora_layers().SelectMany(l => l.layer.lora_A.Values.Concat(l.layer.lora_B.Values))));
        Tensor[] stateAfter = quantized.quantized_state().ToArray();
        for (int i = 0; i < stateBefore.Length; i++) Assert.True(torch.allclose(stateBefore[i].to(ScalarType.Float64), stateAfter[i].to(ScalarType.Float64), 0, 0));
    }

    [Fact]
    public void Merging_requantizes_the_base_plus_the_update_within_one_rounding()
    {
        using var scope = torch.NewDisposeScope();
        using var lora = new LoraModel(new QuantMlp(2), Config);
        var fc1 = (LoraLinear)lora.model.get_submodule("fc1");
        LoraTestKitFloat.Randomize(fc1, 5, scale: 0.05);
        QuantizedLayer quantized = fc1.quantized_base!;
        Tensor exact = quantized.dequantize() + fc1.get_delta_weight("default");
        Tensor[] codesBefore = quantized.quantized_state().Select(t => t.clone()).ToArray();
        lora.merge();

        // Each element is rounded once (stochastically: to one of its two neighbouring levels), on its block's scale.
        Tensor blockMax = exact.reshape(-1, 64).abs().amax([1], keepdim: true);
        Tensor error = (quantized.dequantize() - exact).reshape(-1, 64).abs();
        Assert.True((error <= blockMax * (2 * QuantMlp.HalfWidestGap * 1.0001)).all().item<bool>(), "an element moved more than one rounding");
        Assert.True(error.max().item<float>() > 0, "nothing was rounded: the check above saw no quantization");
        Tensor x = QuantMlp.Input(12, 6);
        Assert.True(torch.allclose(fc1.call(x), F.linear(x, quantized.dequantize(), quantized.bias), rtol: 1e-5, atol: 1e-6), "the merged adapter still runs");

        lora.unmerge();   // nothing wrote the codes since the merge: they come back bit for bit
        foreach ((Tensor saved, Tensor now) in codesBefore.Zip(quantized.quantized_state()))
            Assert.True(torch.allclose(saved.to(ScalarType.Float64), now.to(ScalarType.Float64), 0, 0));
    }

    [Fact]
    public void Peft_adapter_files_are_those_of_a_full_precision_base()
    {
        string plainDir = Directory.CreateTempSubdirectory("lrb-qlora-").FullName, quantDir = Directory.CreateTempSubdirectory("lrb-qlora-").FullName;
        try
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(4);
            using (var plain = new LoraModel(new QuantMlp(3), Config with { base_quantization = null })) plain.save_pretrained(plainDir);
            torch.manual_seed(4);
            using (var quantized = new LoraModel(new QuantMlp(3), Config)) quantized.save_pretrained(quantDir);
            Assert.Equal(File.ReadAllText(Path.Combine(plainDir, LoraConfig.ConfigFileName)), File.ReadAllText(Path.Combine(quantDir, LoraConfig.ConfigFileName)));
            Assert.Equal(File.ReadAllBytes(Path.Combine(plainDir, LoraModel.WeightsFileName)), File.ReadAllBytes(Path.Combine(quantDir, LoraModel.WeightsFileName)));
        }
        finally
        {
            Directory.Delete(plainDir, true);
            Directory.Delete(quantDir, true);
        }
    }

    [Fact]
    public void Quantizing_twice_or_with_a_block_that_does_not_divide_the_row_is_refused()
    {
        using var scope = torch.NewDisposeScope();
        using var lora = new LoraModel(new QuantMlp(4), Config);
        var twice = Assert.Throws<InvalidOperationException>(() => lora.add_adapter("second", Config));
        Assert.Contains("'fc1' is already quantized (nf4)", twice.Message);
        lora.add_adapter("second", Config with { base_quantization = null });

        using var model = new QuantMlp(5);
        var block = Assert.Throws<ArgumentException>(() => new LoraModel(model, Config with { base_quantization = new QuantizationConfig { blocksize = 48 } }));
        Assert.Contains("block size 48 does not divide", block.Message);
        Assert.IsType<Linear>(model.fc1);                          // the model was left as it was
        Assert.IsType<Linear>(model.head);

        using var manual = new QuantMlp(6);
        using (Module plain = manual.fc1) manual.fc1 = new QuantizedLinear((Linear)plain, new QuantizationConfig { quant_type = "int8" });
        var again = Assert.Throws<InvalidOperationException>(() => new LoraModel(manual, Config));
        Assert.Contains("already quantized (int8)", again.Message);
    }

    [Fact]
    public void Base_quantization_of_a_weight_with_NaN_names_the_module_path_and_leaves_the_model_as_it_was()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new QuantMlp(7);
        using (torch.no_grad()) ((Linear)model.head).weight.view(-1).narrow(0, 10, 1).fill_(double.NaN);

        var error = Assert.Throws<ArgumentException>(() => new LoraModel(model, Config));

        Assert.StartsWith("'head': weight of a Linear(64 -> 4) holds 1 NaN and 0 ±∞ of its 256 values: nf4 cannot quantize NaN or ±∞", error.Message);
        Assert.IsType<Linear>(model.fc1);
        Assert.IsType<Linear>(model.head);
    }
}

/// <summary>Seeded factors for float32 LoRA layers.</summary>
internal static class LoraTestKitFloat
{
    public static void Randomize(LoraLayer layer, int seed, double scale = 0.1)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        layer.lora_A["default"].copy_(TestData.Randn(seed, layer.lora_A["default"].shape) * scale);
        layer.lora_B["default"].copy_(TestData.Randn(seed + 1, layer.lora_B["default"].shape) * scale);
    }
}
