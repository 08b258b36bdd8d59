using LowRankBias.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using Xunit.Abstractions;

namespace LowRankBias.Onnx.Tests;

/// <summary>Imported initializers are parameters that train: gradients equal PyTorch's autograd through the original
/// module, freezing works by name, and LoRA wraps imported Gemm/Conv nodes.</summary>
public class OnnxTrainingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("mlp", 8)]
    [InlineData("cnn", 13)]
    [InlineData("resnet", 17)]
    public void Gradients_of_imported_parameters_equal_pytorch_autograd(string model, int opset)
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> python = Fixtures.Python(model);
        using OnnxModel imported = OnnxModel.load(Fixtures.File($"{model}_opset{opset}.onnx"));
        imported.eval();
        (imported.call(python["x"]) * python["r"]).sum().backward();

        var parameters = imported.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        int compared = 0;
        double worst = 0;
        foreach (OnnxInitializer init in imported.initializers.Where(i => i.is_parameter))
        {
            // The exporter keeps PyTorch's parameter names for the initializers it does not transform.
            Assert.True(python.TryGetValue("grad." + init.name, out Tensor? expected), $"no PyTorch gradient for '{init.name}'");
            Tensor grad = parameters[init.state_key].grad!;
            if (init.transposed) grad = grad.t();
            Assert.Equal(expected.shape, grad.shape);
            double difference = (grad - expected).abs().max().item<float>(), scale = expected.abs().max().item<float>();
            worst = Math.Max(worst, difference / Math.Max(1, scale));
            Assert.True(difference <= 1e-5 * Math.Max(1, scale), $"{init.name}: max difference {difference:G3} (gradient up to {scale:G3})");
            compared++;
        }
        output.WriteLine($"{model} opset {opset}: {compared} parameter gradients, worst relative difference {worst:G3}");
        Assert.Equal(python.Keys.Count(k => k.StartsWith("grad.", StringComparison.Ordinal)), compared);
    }

    // The ViT's exporter shares equal initializers between nodes (through Identity), so PyTorch's per-parameter gradients
    // do not map one to one: its gradients are checked against central differences in float64 instead, through
    // attention (MatMul layers holding transposed weights, Softmax, Gather), LayerNormalization and GELU (Erf).
    [Fact]
    public void Vit_gradients_in_float64_equal_central_differences()
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> python = Fixtures.Python("vit");
        using OnnxModel vit = OnnxModel.load(Fixtures.File("vit_opset17.onnx"));
        vit.to(ScalarType.Float64);
        Tensor x = python["x"].to(ScalarType.Float64), r = python["r"].to(ScalarType.Float64);
        double Loss() { using var s = NewDisposeScope(); using var g = no_grad(); return (vit.call(x) * r).sum().item<double>(); }
        (vit.call(x) * r).sum().backward();

        string[] checkedNames = ["cls", "pos", "blocks.0.norm1.weight", "blocks.0.attn.qkv.bias", "head.weight"];
        var initializers = vit.initializers.Where(i => checkedNames.Contains(i.name) || i.name.StartsWith("onnx::MatMul", StringComparison.Ordinal)).Take(8).ToList();
        Assert.Contains(initializers, i => i.transposed);
        var parameters = vit.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        const double h = 1e-6;
        foreach (OnnxInitializer init in initializers)
        {
            Tensor p = parameters[init.state_key];
            Tensor flat = p.detach().view(-1), grad = p.grad!.reshape(-1);
            foreach (long k in new[] { 0L, flat.numel() / 2, flat.numel() - 1 })
            {
                double original = flat[k].item<double>();
                using (no_grad()) flat[k].fill_(original + h);
                double up = Loss();
                using (no_grad()) flat[k].fill_(original - h);
                double down = Loss();
                using (no_grad()) flat[k].fill_(original);
                double numeric = (up - down) / (2 * h), analytic = grad[k].item<double>();
                Assert.True(Math.Abs(numeric - analytic) <= 1e-6 * Math.Max(1, Math.Abs(numeric)), $"{init.name}[{k}]: autograd {analytic:G6}, differences {numeric:G6}");
            }
        }
    }

    [Fact]
    public void Parameters_are_named_after_initializers_and_freeze_by_name()
    {
        using var scope = NewDisposeScope();
        using OnnxModel mlp = OnnxModel.load(Fixtures.File("mlp_opset17.onnx"));
        // Gemm nodes "/fc1/Gemm" … became Linear layers "fc1_Gemm" …, holding the initializers "fc1.weight" and "fc1.bias".
        Assert.Equal(["fc1_Gemm.weight", "fc1_Gemm.bias", "fc2_Gemm.weight", "fc2_Gemm.bias", "fc3_Gemm.weight", "fc3_Gemm.bias"],
            mlp.state_dict().Keys);
        Assert.Equal("fc1_Gemm.weight", mlp.initializers.Single(i => i.name == "fc1.weight").state_key);
        Assert.IsType<Linear>(mlp.get_submodule("fc1_Gemm"));
        Assert.Equal("fc1_Gemm", mlp.nodes.Single(n => n.name == "/fc1/Gemm").module);

        mlp.requires_grad_(false);
        mlp.get_submodule("fc3_Gemm").requires_grad_(true);
        mlp.call(Fixtures.Python("mlp")["x"]).sum().backward();
        foreach ((string name, Tensor p) in mlp.named_parameters())
            Assert.Equal(name.StartsWith("fc3_Gemm.", StringComparison.Ordinal), p.grad is not null);
    }

    [Fact]
    public void Lora_on_an_imported_gemm_node_starts_at_the_base_output_and_trains()
    {
        using var scope = NewDisposeScope();
        manual_seed(0);
        Tensor x = Fixtures.Python("mlp")["x"];
        using OnnxModel mlp = OnnxModel.load(Fixtures.File("mlp_opset13.onnx"));
        Tensor before = mlp.call(x).detach();
        Tensor baseWeight = mlp.get_parameter("fc1_Gemm.weight").detach().clone();
        var lora = new LoraModel(mlp, new LoraConfig { r = 2, lora_alpha = 4, target_modules = new[] { "fc1_Gemm", "fc3_Gemm" } });
        Assert.IsType<LoraLinear>(mlp.get_submodule("fc1_Gemm"));
        Assert.Equal(0, (lora.call(x) - before).abs().max().item<float>());

        Tensor target = randn(before.shape);
        using var optimizer = new AdamW(lora.parameters().Where(p => p.requires_grad), lr: 1e-2);
        double first = 0, last = 0;
        for (int step = 0; step < 50; step++)
        {
            using var stepScope = NewDisposeScope();
            Tensor loss = nn.functional.mse_loss(lora.call(x), target);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            last = loss.item<float>();
            if (step == 0) first = last;
        }
        Assert.True(last < 0.7 * first, $"loss {first:G4} -> {last:G4}");
        Assert.Equal(0, (mlp.get_parameter("fc1_Gemm.base_layer.weight") - baseWeight).abs().max().item<float>());
    }

    [Fact]
    public void Lora_on_an_imported_conv_node_starts_at_the_base_output_and_changes_it_when_trained()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        Tensor x = Fixtures.Python("cnn")["x"];
        using OnnxModel cnn = OnnxModel.load(Fixtures.File("cnn_opset17.onnx"));
        cnn.eval();
        Tensor before = cnn.call(x).detach();
        var lora = new LoraModel(cnn, new LoraConfig { r = 2, lora_alpha = 2, target_modules = new[] { "conv1_Conv", "conv3_Conv" } });
        Assert.IsType<LoraConv2d>(cnn.get_submodule("conv3_Conv"));
        Assert.Equal(0, (lora.call(x) - before).abs().max().item<float>());

        using var optimizer = new AdamW(lora.parameters().Where(p => p.requires_grad), lr: 1e-2);
        Tensor loss = -lora.call(x).select(1, 0).log().mean();  // raise class 0's probability
        loss.backward();
        optimizer.step();
        Tensor after = lora.call(x).detach();
        Assert.True((after.select(1, 0) - before.select(1, 0)).mean().item<float>() > 0, "one step did not raise class 0's probability");
    }
}
