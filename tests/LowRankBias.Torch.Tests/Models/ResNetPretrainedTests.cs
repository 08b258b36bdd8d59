using LowRankBias.Torch.IO;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests.IO;
using static LowRankBias.Torch.Tests.Models.ResNetTorchvisionTests;

namespace LowRankBias.Torch.Tests.Models;

/// <summary>
/// Files written by torch.save and by the safetensors layout from torchvision's own ResNet code (narrow widths, see
/// tests/fixtures/resnet/make_resnet_fixtures.py): loaded, they give torchvision's logits; exported, they give back
/// the original file's keys, order and values.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ResNetPretrainedTests
{
    public static TheoryData<string, string> Files => new()
    {
        { "torchvision_resnet_basic.pt", "basic" },
        { "torchvision_resnet_basic.safetensors", "basic" },
        { "torchvision_resnet_bottleneck.safetensors", "bottleneck" },
    };

    private static Dictionary<string, Tensor> Original(string file) =>
        file.EndsWith(".pt") ? PyTorchFile.load_state_dict(Fixture(file)) : SafeTensors.load_file(Fixture(file));

    [Theory]
    [MemberData(nameof(Files))]
    public void LoadedFileGivesTorchvisionsLogitsInBothModes(string file, string name)
    {
        using var scope = NewDisposeScope();
        using var threads = new OneThread();
        Dictionary<string, Tensor> outputs = SafeTensors.load_file(Fixture("narrow_outputs.safetensors"));
        using ResNet model = ResNet.from_pretrained(Fixture(file));
        Assert.Equal(name == "bottleneck", model.config.bottleneck);
        Assert.Equal(name == "bottleneck" ? [1L, 1, 1, 1] : [2L, 1, 1, 2], model.config.layers);
        Assert.Equal((4L, 3L, 10L), (model.config.width, model.config.in_channels, model.config.num_classes));
        Assert.Equal(3, model.state_dict()["layer1.0.bn1.num_batches_tracked"].item<long>());
        model.eval();
        using (no_grad()) AssertLogits(outputs[$"{name}.eval"], model.call(outputs["input"]), $"{file} eval");
        model.to(ScalarType.Float64).train();   // float64: train-mode float32 logits depend on the CPU (see ResNetTorchvisionTests)
        using (no_grad()) AssertLogits(outputs[$"{name}.train"], model.call(outputs["input"].to(ScalarType.Float64)), $"{file} train", Float64Tolerance);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void SavedFileHasTheOriginalKeysOrderAndValues(string file, string _)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using ResNet model = ResNet.from_pretrained(Fixture(file));
        string path = dir.File("export" + Path.GetExtension(file));
        model.save_pretrained(path);
        Assert.Equal(WeightFile.detect(Fixture(file)), WeightFile.detect(path));   // .pt: a torch.save zip, which torch.load(weights_only=True) reads (make_resnet_fixtures.py --check)
        Dictionary<string, Tensor> original = Original(file), saved = file.EndsWith(".pt") ? PyTorchFile.load_state_dict(path) : SafeTensors.load_file(path);
        // A torch.save file keeps torchvision's order; safetensors' order is that of the header, which writers choose.
        IEnumerable<string> Keys(Dictionary<string, Tensor> state) => file.EndsWith(".pt") ? state.Keys : state.Keys.Order(StringComparer.Ordinal);
        Assert.Equal(Keys(original), Keys(saved));
        foreach ((string key, Tensor want) in original)
        {
            Assert.Equal(want.dtype, saved[key].dtype);
            Assert.True(want.shape.SequenceEqual(saved[key].shape) && (want == saved[key]).all().item<bool>(), $"'{key}' differs after load and save");
        }
    }

    [Fact]
    public void CheckpointsWithoutBatchCountsOrWithDataParallelNamesLoad()
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> outputs = SafeTensors.load_file(Fixture("narrow_outputs.safetensors"));
        var old = Original("torchvision_resnet_basic.pt").Where(p => !p.Key.EndsWith(".num_batches_tracked")).ToDictionary(p => "module." + p.Key, p => p.Value);
        using ResNet model = ResNet.from_state_dict(old);
        Assert.All(model.state_dict().Where(p => p.Key.EndsWith(".num_batches_tracked")), p => Assert.Equal(0, p.Value.item<long>()));
        model.eval();
        using (no_grad()) AssertLogits(outputs["basic.eval"], model.call(outputs["input"]), "without num_batches_tracked");
    }

    [Fact]
    public void FilesThatDoNotFitAreNamedWithTheKey()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        InvalidDataException Load(Action<Dictionary<string, Tensor>> edit)
        {
            Dictionary<string, Tensor> state = Original("torchvision_resnet_basic.safetensors");
            edit(state);
            string path = dir.File($"bad{Guid.NewGuid():N}.safetensors");
            SafeTensors.save_file(state, path);
            var e = Assert.Throws<InvalidDataException>(() => ResNet.from_pretrained(path));
            Assert.Contains(path, e.Message);
            return e;
        }

        var keys = Load(s => { s.Remove("layer4.1.bn2.running_var"); s["layer4.1.se.weight"] = zeros([2]); });
        Assert.Contains("missing keys [layer4.1.bn2.running_var]", keys.Message);
        Assert.Contains("unexpected keys [layer4.1.se.weight]", keys.Message);
        var shape = Load(s => s["layer2.0.conv2.weight"] = zeros([8, 8, 5, 5]));
        Assert.Contains("'layer2.0.conv2.weight'", shape.Message);
        Assert.Contains("[8, 8, 5, 5]", shape.Message);
        var stage = Load(s => { foreach (string k in s.Keys.Where(k => k.StartsWith("layer3.")).ToList()) s.Remove(k); });
        Assert.Contains("no blocks under 'layer3.'", stage.Message);
        var gap = Load(s => s["layer2.99999999999.conv1.weight"] = s["layer2.0.conv1.weight"]);
        Assert.Contains("'layer2.' are numbered [0, 99999999999]", gap.Message);
        var fc = Load(s => s["fc.weight"] = zeros([10]));
        Assert.Contains("'fc.weight' has shape [10], expected 2 dimensions", fc.Message);

        var vit = Assert.Throws<InvalidDataException>(() => ResNet.from_pretrained(PyTorchFileFixtureTests.Fixture("torchvision_vit.pt")));
        Assert.Contains("no 'conv1.weight'", vit.Message);
        Assert.Contains("torchvision_vit.pt", vit.Message);
    }

    [Fact]
    public void ExportRefusesReplacedLayersButKeepsFrozenBatchNormKeys()
    {
        using var scope = NewDisposeScope();
        using ResNet model = ResNet.from_pretrained(Fixture("torchvision_resnet_basic.pt"));
        string[] keys = model.export_state_dict().Keys.ToArray();
        model.freeze_batchnorm();
        Assert.Equal(keys, model.export_state_dict().Keys);
        Assert.True((Original("torchvision_resnet_basic.pt")["layer3.0.downsample.1.running_mean"] == model.export_state_dict()["layer3.0.downsample.1.running_mean"]).all().item<bool>());

        using var replaced = (Module)model.layer2.get_submodule("0.conv1");
        model.set_submodule("layer2.0.conv1", new Identity());
        var e = Assert.Throws<InvalidOperationException>(() => model.export_state_dict());
        Assert.Contains("'layer2.0.conv1' (Identity)", e.Message);
    }
}
