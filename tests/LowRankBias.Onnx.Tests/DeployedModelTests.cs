using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using Xunit.Abstractions;

namespace LowRankBias.Onnx.Tests;

/// <summary>Models prepared for deployment — BatchNorm folded into the convolutions (ResNet.fuse_model) and the
/// convolutions on oneDNN (MkldnnConv2d.to_mkldnn) — still compute what ONNX Runtime computes from the file.</summary>
public class DeployedModelTests(ITestOutputHelper output)
{
    [Fact]
    public void The_ImageNet_ResNet18_fused_and_on_onednn_gives_onnx_runtimes_features()
    {
        using var scope = NewDisposeScope();
        using ResNet resnet = OnnxResNet.load(Fixtures.ResNet18);   // trained weights and BatchNorm statistics
        resnet.eval();
        MkldnnConv2d.to_mkldnn(resnet.fuse_model());
        Assert.Empty(resnet.modules().OfType<BatchNorm2d>());
        manual_seed(3);
        Tensor x = rand([1, 3, 224, 224]) * 255;
        Tensor features;
        using (no_grad()) features = resnet.call(x);

        Fixtures.AssertResNet18Features(x, features, output, "fused ResNet-18 on oneDNN");
    }

    [Fact]
    public void An_imported_graph_on_onednn_computes_what_onnx_runtime_and_pytorch_compute()
    {
        using var scope = NewDisposeScope();
        string path = Fixtures.File("resnet_opset17.onnx");
        Dictionary<string, Tensor> python = Fixtures.Python("resnet");
        using OnnxModel imported = OnnxModel.load(path);
        imported.eval();
        int convolutions = imported.modules().OfType<Conv2d>().Count();
        MkldnnConv2d.to_mkldnn(imported);
        Assert.Equal(convolutions, imported.modules().OfType<MkldnnConv2d>().Count());
        Tensor y;
        using (no_grad()) y = imported.call(python["x"]);

        double fromRuntime = Fixtures.MaxAbsDifference(Fixtures.OnnxRuntime(path, python["x"]), y);
        double fromPython = Fixtures.MaxAbsDifference(python["y"].ToArray<float>(), y);
        output.WriteLine($"imported resnet on oneDNN: max |ours - ONNX Runtime| = {fromRuntime:G3}, max |ours - PyTorch| = {fromPython:G3}");
        Assert.True(fromRuntime < 1e-5, $"differs from ONNX Runtime by {fromRuntime:G3}");
        Assert.True(fromPython < 1e-5, $"differs from PyTorch by {fromPython:G3}");
    }
}
