using LowRankBias.Torch.IO;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Tests.Models;

/// <summary>
/// torchvision's resnet18/34/50 against ours without committed weights: libtorch and python3-torch 1.13 share the CPU
/// generator, so <see cref="DrawWeights"/> after <c>manual_seed</c> gives the weights that
/// tests/fixtures/resnet/make_resnet_fixtures.py's draw_weights gave torchvision's model; the fixture holds the input and
/// the logits torchvision computed from them (eval mode in float32; train mode, after an SGD step and with frozen
/// BatchNorm in float64, the model converted exactly as torchvision's .double() converts it). float32 eval logits agree
/// to 1e-5 across CPUs; in train mode BatchNorm over a batch of 2 amplifies float32 kernel rounding, which depends on
/// the CPU (oneDNN picks kernels by instruction set) and on how threads split reductions, past any tolerance that
/// would still catch a bug, so those truths are float64 and are met to float64 rounding. One thread on both sides.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ResNetTorchvisionTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "resnet", name);

    /// <summary>make_resnet_fixtures.py's draw_weights, tensor for tensor in state-dict order (torchvision's names).</summary>
    internal static void DrawWeights(ResNet model, ulong seed)
    {
        manual_seed(seed);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach ((string key, Tensor t) in model.state_dict())
        {
            long[] shape = t.shape;
            if (key.EndsWith("num_batches_tracked")) t.fill_(3);
            else if (key.EndsWith("running_mean")) t.copy_(0.1 * randn(shape));
            else if (key.EndsWith("running_var")) t.copy_(0.5 + rand(shape));
            else if (t.dim() >= 2) t.copy_(randn(shape) / Math.Sqrt(t.numel() / shape[0]));
            else if (key.EndsWith("weight")) t.copy_(1 + 0.1 * randn(shape));
            else t.copy_(0.1 * randn(shape));
        }
    }

    private static ResNet Build(string arch, ulong seed)
    {
        ResNet model = arch switch
        {
            "resnet18" => ResNet.resnet18(num_classes: 10),
            "resnet34" => ResNet.resnet34(num_classes: 10),
            _ => ResNet.resnet50(num_classes: 10),
        };
        DrawWeights(model, seed);
        return model;
    }

    // Relative to the largest logit: float32 kernel rounding (eval mode, across CPUs); float64 rounding (the rest: ours
    // differs from torchvision's by at most 1.1e-15 relative on the AMD EPYC that wrote the fixtures, 1e-12 leaves room).
    internal const double Float32Tolerance = 1e-5, Float64Tolerance = 1e-12;

    internal static void AssertLogits(Tensor expected, Tensor actual, string what, double relative = Float32Tolerance)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        double scale = Math.Max(1, expected.abs().max().to(ScalarType.Float64).item<double>());
        double error = (actual - expected).abs().max().to(ScalarType.Float64).item<double>();
        Assert.True(error <= relative * scale, $"{what}: max |ours - torchvision's| = {error} (logits up to {scale})");
    }

    [Theory]
    [InlineData("resnet18", 18)]
    [InlineData("resnet34", 34)]
    [InlineData("resnet50", 50)]
    public void EvalAndTrainModeLogitsAndRunningStatisticsAreTorchvisions(string arch, ulong seed)
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> truth = SafeTensors.load_file(Fixture("resnet_truth.safetensors"));
        using var threads = new OneThread();
        using ResNet model = Build(arch, seed);
        var sd = model.state_dict();
        // The shared generator first: the same draws, bit for bit.
        Tensor probe = cat([sd["conv1.weight"].flatten().narrow(0, 0, 4), sd["fc.weight"].flatten().narrow(0, 0, 4), sd["bn1.running_var"].narrow(0, 0, 4)]);
        Assert.True(Same(probe, truth[$"{arch}.probe"]), $"{arch}: the generator's draws differ from python3-torch's");

        Tensor input = truth["input"];
        model.eval();
        using (no_grad()) AssertLogits(truth[$"{arch}.eval"], model.call(input), $"{arch} eval");
        model.to(ScalarType.Float64).train();
        using (no_grad()) AssertLogits(truth[$"{arch}.train"], model.call(input.to(ScalarType.Float64)), $"{arch} train", Float64Tolerance);
        var block = (LowRankBias.Torch.Modules.BatchNorm2d)model.layer4.get_submodule("0.downsample.1");
        var bn1 = (LowRankBias.Torch.Modules.BatchNorm2d)model.bn1;
        AssertLogits(truth[$"{arch}.running"], cat([bn1.running_mean!, bn1.running_var!, block.running_var!]), $"{arch} running statistics", Float64Tolerance);
        Assert.Equal(4, bn1.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void OneSgdStepGivesTorchvisionsModel()
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> truth = SafeTensors.load_file(Fixture("resnet_truth.safetensors"));
        using var threads = new OneThread();
        using ResNet model = Build("resnet18", 18);
        Step(model, truth);
        model.eval();
        using (no_grad()) AssertLogits(truth["resnet18.step"], model.call(truth["input"].to(ScalarType.Float64)), "after one SGD step", Float64Tolerance);
    }

    [Fact]
    public void FrozenBatchNormStepGivesTorchvisionsModelWithBatchNormInEvalMode()
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> truth = SafeTensors.load_file(Fixture("resnet_truth.safetensors"));
        using var threads = new OneThread();
        using ResNet model = Build("resnet18", 18);
        Tensor before = model.state_dict()["layer2.0.bn1.running_mean"].clone();
        model.freeze_batchnorm();
        model.train();
        Step(model, truth);
        using (no_grad()) AssertLogits(truth["resnet18.frozen_step"], model.call(truth["input"].to(ScalarType.Float64)), "frozen BatchNorm, after one SGD step", Float64Tolerance);
        Assert.True(Same(before, model.state_dict()["layer2.0.bn1.running_mean"]), "frozen running statistics moved");
        Assert.Equal(3, model.state_dict()["bn1.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void InitialisationDrawsTorchvisionsWeights()
    {
        using var scope = NewDisposeScope();
        Tensor expected = SafeTensors.load_file(Fixture("resnet_truth.safetensors"))["resnet18.init"];
        using var threads = new OneThread();
        manual_seed(0);
        using ResNet model = ResNet.resnet18(num_classes: 10);
        Tensor[] stats = model.state_dict().Values.Select(t => stack([t.to(ScalarType.Float64).sum(), t.to(ScalarType.Float64).square().sum()])).ToArray();
        Tensor actual = stack(stats);
        Assert.Equal(expected.shape, actual.shape);
        Tensor relative = ((actual - expected).abs() / (expected.abs() + 1)).amax([1]);
        string[] keys = model.state_dict().Keys.ToArray();
        long worst = relative.argmax().item<long>();
        Assert.True(relative[worst].item<double>() < 1e-9, $"'{keys[worst]}': sums differ from torchvision's initialisation by {relative[worst].item<double>()} (relative)");
    }

    private static bool Same(Tensor a, Tensor b) => (a == b).all().item<bool>();

    // One SGD step in float64 (the model converted first, as make_resnet_fixtures.py does).
    private static void Step(ResNet model, Dictionary<string, Tensor> truth)
    {
        model.to(ScalarType.Float64);
        var sgd = new SGD(model.parameters().Where(p => p.requires_grad).ToList(), lr: 0.01);
        using var scope = NewDisposeScope();
        nn.functional.cross_entropy(model.call(truth["input"].to(ScalarType.Float64)), truth["targets"]).backward();
        sgd.step();
    }
}
