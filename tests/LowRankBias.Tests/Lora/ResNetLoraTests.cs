using LowRankBias.Lora;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.IO;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

/// <summary>LoRA on torchvision's ResNet layout (float64, narrow): targets by name and by regular expression, merged
/// convolutions against the closed form W + s·B·A, export of the merged model, and fine-tuning with frozen BatchNorm.</summary>
public sealed class ResNetLoraTests
{
    private static ResNet Narrow() => new(new ResNet.Config { width = 4, layers = [2, 1, 1, 1], in_channels = 2, num_classes = 3 }, dtype: F64);

    private static LoraConfig Config(ModuleSelector targets) => new() { r = 2, lora_alpha = 6, target_modules = targets };

    [Fact]
    public void TargetsAreMatchedByNameOrByRegularExpression()
    {
        using var scope = NewDisposeScope();
        using var named = new LoraModel(Narrow(), Config(new[] { "conv1", "conv2", "fc" }));
        string[] paths = named.lora_layers().Select(l => l.path).ToArray();
        Assert.Equal(["conv1", "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2", "layer2.0.conv1", "layer2.0.conv2",
            "layer3.0.conv1", "layer3.0.conv2", "layer4.0.conv1", "layer4.0.conv2", "fc"], paths);
        Assert.IsType<LoraConv2d>(named.model.get_submodule("layer2.0.conv1"));
        Assert.IsType<Conv2d>(named.model.get_submodule("layer2.0.downsample.0"));     // "0" is no target name

        using var regex = new LoraModel(Narrow(), Config(@"layer[34]\.\d+\.conv2"));
        Assert.Equal(["layer3.0.conv2", "layer4.0.conv2"], regex.lora_layers().Select(l => l.path));
    }

    [Fact]
    public void MergedConvolutionIsTheClosedFormAndTheMergedModelExportsToTorchvision()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var lora = new LoraModel(Narrow(), Config(new[] { "conv1", "conv2", "fc" }));
        lora.eval();
        int seed = 700;
        foreach ((_, LoraLayer layer) in lora.lora_layers()) Randomize(layer, "default", seed += 10);
        var target = (LoraConv2d)lora.model.get_submodule("layer2.0.conv1");
        Tensor w = ((Conv2d)target.base_layer).weight.detach().clone(), a = target.lora_A["default"].detach(), b = target.lora_B["default"].detach();
        Tensor images = TestData.Randn(800, 2, 2, 20, 20);
        Tensor unmerged = lora.call(images);

        using var plain = (ResNet)lora.merge_and_unload();
        AssertRelative(unmerged, plain.call(images), 1e-10, "merged ResNet");
        // PEFT's conv delta: B [out, r, 1, 1] times A [r, in, 3, 3] flattened, times alpha / r = 3 (independent MathNet arithmetic).
        var delta = M(b.flatten(1)) * M(a.flatten(1)) * 3.0;
        Tensor expected = w + TestData.FromMatrix(delta).reshape(w.shape);
        AssertRelative(expected, ((Conv2d)plain.get_submodule("layer2.0.conv1")).weight, 1e-12, "merged layer2.0.conv1");

        string path = dir.File("merged.pt");
        plain.save_pretrained(path);
        using ResNet again = ResNet.from_pretrained(path, dtype: F64);
        again.eval();
        AssertRelative(unmerged, again.call(images), 1e-12, "merged, saved in torchvision's layout and loaded");
    }

    [Fact]
    public void WithFrozenBatchNormAStepTrainsTheAdaptersOnly()
    {
        using var scope = NewDisposeScope();
        ResNet resnet = Narrow().freeze_batchnorm();
        using var lora = new LoraModel(resnet, Config(new[] { "conv1", "conv2", "fc" }));
        var before = lora.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        Tensor images = TestData.Randn(801, 4, 2, 20, 20);
        lora.eval();
        Tensor evalOutput = lora.call(images).detach();
        lora.train();
        Tensor trainOutput = lora.call(images);
        Assert.True((trainOutput == evalOutput).all().item<bool>(), "frozen BatchNorm gave different outputs in train and eval mode");

        var sgd = new SGD(lora.parameters().Where(p => p.requires_grad).ToList(), lr: 0.1);
        nn.functional.cross_entropy(trainOutput, tensor(new long[] { 0, 1, 2, 0 })).backward();
        sgd.step();
        foreach ((string key, Tensor value) in lora.state_dict())
        {
            bool same = (value == before[key]).all().item<bool>();
            if (key.Contains(".lora_B.")) Assert.False(same, $"adapter factor '{key}' did not move");
            else if (!key.Contains(".lora_A.")) Assert.True(same, $"'{key}' changed although only adapters train");
        }
    }
}
