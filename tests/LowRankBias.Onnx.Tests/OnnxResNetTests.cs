using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using Xunit.Abstractions;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Onnx.Tests;

/// <summary>The ML.NET ImageNet ResNet-18 mapped onto our torchvision-layout ResNet computes what ONNX Runtime computes
/// from the file, and its preprocessing graph what ONNX Runtime computes from that file.</summary>
public class OnnxResNetTests(OnnxResNetTests.Mapped mapped, ITestOutputHelper output) : IClassFixture<OnnxResNetTests.Mapped>
{
    /// <summary>The ImageNet ResNet-18 mapped once for the tests that only run it (reading the 45 MB file takes seconds).</summary>
    public sealed class Mapped : IDisposable
    {
        public ResNet Model { get; } = OnnxResNet.load(Fixtures.ResNet18);

        public void Dispose() => Model.Dispose();
    }

    [Fact]
    public void The_mapped_ImageNet_ResNet18_gives_onnx_runtimes_features_at_224()
    {
        using var scope = NewDisposeScope();
        ResNet resnet = mapped.Model;
        resnet.eval();
        // CNTK's ResNet-18 has three blocks in its last stage, read from the graph.
        Assert.Equal([2L, 2, 2, 3], resnet.config.layers);
        Assert.IsType<Identity>(resnet.fc);
        Assert.Equal(0, resnet.config.num_classes);
        manual_seed(3);
        Tensor x = rand([1, 3, 224, 224]) * 255;
        Tensor features = resnet.call(x);

        Assert.Equal([1L, 512], features.shape);
        Fixtures.AssertResNet18Features(x, features, output, "mapped ResNet-18");
    }

    [Fact]
    public void At_other_sizes_the_convolutions_compute_what_the_graph_computes_and_the_pooling_is_global()
    {
        using var scope = NewDisposeScope();
        ResNet resnet = mapped.Model;
        using OnnxModel graph = OnnxModel.load(Fixtures.ResNet18);
        resnet.eval();
        graph.eval();
        manual_seed(4);
        // 288 = 9·32: layer4 gives 9×9, which the graph's own 7×7 AveragePool (stride 1) turns into 3×3 windows.
        Tensor x = rand([2, 3, 288, 288]) * 255;
        Tensor? map = null;
        using var hook = resnet.layer4.register_forward_hook((_, _, y) => { map = y.detach().clone().DetachFromDisposeScope(); });
        Tensor features = resnet.call(x);
        using Tensor layer4 = map!;

        Assert.Equal([2L, 512, 9, 9], layer4.shape);
        Tensor windows = F.avg_pool2d(layer4, [7, 7], [1, 1]);
        Tensor reference = graph.call(x);  // our import of the file, checked against ONNX Runtime at 224 elsewhere
        double difference = (windows - reference).abs().max().item<float>();
        output.WriteLine($"288×288: max |windows of ours - graph| = {difference:G3}");
        Assert.True(difference <= 1e-4 * Math.Max(1, reference.abs().max().item<float>()), $"differs from the graph by {difference:G3}");
        Assert.True(allclose(features, layer4.mean([2, 3]), rtol: 1e-5, atol: 1e-6));
        // A size the graph's own pooling would not take at all still gives features.
        Assert.Equal([1L, 512], resnet.call(rand([1, 3, 100, 132]) * 255).shape);
    }

    [Fact]
    public void A_classifier_of_the_given_size_is_added_fresh()
    {
        using var scope = NewDisposeScope();
        using ResNet resnet = OnnxResNet.load(Fixtures.ResNet18, num_classes: 10);
        var fc = Assert.IsType<Linear>(resnet.fc);
        Assert.Equal([10L, 512], fc.weight.shape);
        Assert.True(fc.weight.abs().max().item<float>() <= 1 / Math.Sqrt(512) + 1e-6);  // PyTorch's Linear bound
        resnet.eval();
        Assert.Equal([2L, 10], resnet.call(rand([2, 3, 64, 64])).shape);
    }

    [Fact]
    public void The_preprocessing_computes_what_onnx_runtime_computes_from_its_file()
    {
        using var scope = NewDisposeScope();
        using ImagePreprocess prep = OnnxResNet.load_preprocess(Fixtures.ResNetPreprocess);
        Assert.True(prep.reverse_channels);
        Assert.Equal([1L, 3, 224, 224], prep.mean_image.shape);
        manual_seed(5);
        Tensor x = rand([1, 3, 224, 224]) * 255;
        double difference = Fixtures.MaxAbsDifference(Fixtures.OnnxRuntime(Fixtures.ResNetPreprocess, x), prep.call(x));
        Assert.True(difference <= 1e-5, $"differs from ONNX Runtime by {difference:G3}");

        // per_channel subtracts each channel's mean of the mean image, which ONNX Runtime gives as −output at x = 0.
        using ImagePreprocess anySize = prep.per_channel();
        Tensor negativeMean = from_array(Fixtures.OnnxRuntime(Fixtures.ResNetPreprocess, zeros([1, 3, 224, 224])), [1, 3, 224, 224]);
        Tensor channelMeans = -negativeMean.to(ScalarType.Float64).mean([2, 3], keepdim: true);
        Tensor y = rand([2, 3, 40, 60]) * 255;
        Tensor expected = y.flip(1).to(ScalarType.Float64) - channelMeans;
        Assert.True(allclose(anySize.call(y).to(ScalarType.Float64), expected, rtol: 0, atol: 1e-4));
        var wrongSize = Assert.Throws<ArgumentException>(() => prep.call(y));
        Assert.Contains("[N, 3, 224, 224]", wrongSize.Message);
    }

    [Fact]
    public void Files_that_are_not_such_graphs_are_refused_with_the_reason()
    {
        var notResNet = Assert.Throws<InvalidDataException>(() => OnnxResNet.load(Fixtures.File("mlp_opset13.onnx")));
        Assert.Contains("not a torchvision-layout ResNet", notResNet.Message);
        var preprocess = Assert.Throws<InvalidDataException>(() => OnnxResNet.load(Fixtures.ResNetPreprocess));
        Assert.Contains("not a torchvision-layout ResNet", preprocess.Message);
        var notPreprocess = Assert.Throws<InvalidDataException>(() => OnnxResNet.load_preprocess(Fixtures.File("cnn_opset13.onnx")));
        Assert.Contains("expected the nodes Split, Concat, Sub", notPreprocess.Message);
        var classes = Assert.Throws<ArgumentException>(() => OnnxResNet.load(Fixtures.ResNet18, num_classes: -1));
        Assert.Contains("num_classes", classes.Message);
    }
}
