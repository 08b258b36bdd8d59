using Xunit.Abstractions;

namespace LowRankBias.Onnx.Tests;

/// <summary>Imported models compute what ONNX Runtime computes from the same file, and what PyTorch computed before
/// exporting it.</summary>
public class OnnxRuntimeParityTests(ITestOutputHelper output)
{
    public static TheoryData<string, int> Exported => new()
    {
        { "mlp", 8 }, { "mlp", 13 }, { "mlp", 17 },
        { "cnn", 8 }, { "cnn", 13 }, { "cnn", 17 },
        { "resnet", 8 }, { "resnet", 13 }, { "resnet", 17 },
        { "vit", 13 }, { "vit", 17 },
    };

    [Theory]
    [MemberData(nameof(Exported))]
    public void A_torch_export_computes_what_onnx_runtime_and_pytorch_compute(string model, int opset)
    {
        using var scope = NewDisposeScope();
        string path = Fixtures.File($"{model}_opset{opset}.onnx");
        Dictionary<string, Tensor> python = Fixtures.Python(model);
        using OnnxModel imported = OnnxModel.load(path);
        Assert.Equal(opset, imported.opset_version);
        imported.eval();
        Tensor y = imported.call(python["x"]);

        Assert.Equal(python["y"].shape, y.shape);
        double fromRuntime = Fixtures.MaxAbsDifference(Fixtures.OnnxRuntime(path, python["x"]), y);
        double fromPython = Fixtures.MaxAbsDifference(python["y"].ToArray<float>(), y);
        output.WriteLine($"{model} opset {opset}: max |ours - ONNX Runtime| = {fromRuntime:G3}, max |ours - PyTorch| = {fromPython:G3}");
        Assert.True(fromRuntime < 1e-5, $"differs from ONNX Runtime by {fromRuntime:G3}");
        Assert.True(fromPython < 1e-5, $"differs from PyTorch by {fromPython:G3}");
    }

    [Fact]
    public void The_ImageNet_ResNet18_computes_what_onnx_runtime_computes()
    {
        using var scope = NewDisposeScope();
        using OnnxModel resnet = OnnxModel.load(Fixtures.ResNet18);
        Assert.Equal(8, resnet.opset_version);
        // All 22 convolutions are layers of their own (their weights trainable parameters), the batch-norm statistics buffers.
        Assert.Equal(22, resnet.modules().OfType<LowRankBias.Torch.Modules.Conv2d>().Count());
        Assert.Equal(44, resnet.initializers.Count(i => !i.is_parameter));
        manual_seed(3);
        Tensor x = rand([1, 3, 224, 224]) * 255;  // the featurizer feeds pixels in [0, 255]
        Tensor y = resnet.call(x);

        Assert.Equal([1L, 512, 1, 1], y.shape);
        float[] expected = Fixtures.OnnxRuntime(Fixtures.ResNet18, x);
        double difference = Fixtures.MaxAbsDifference(expected, y);
        double scale = expected.Max(v => Math.Abs(v));
        output.WriteLine($"ResNet-18: max |ours - ONNX Runtime| = {difference:G3}, outputs up to {scale:G3}");
        Assert.True(difference <= 1e-4 * Math.Max(1, scale), $"max |ours - ONNX Runtime| = {difference:G3} (outputs up to {scale:G3})");
    }
}
