using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Tests.IO;

/// <summary>
/// Reads tests/fixtures/pretrained/checkpoint.pt, written by PyTorch 1.13's own torch.save
/// (make_vit_fixtures.py), against checkpoint_expected.safetensors, the same tensors written by the json module.
/// </summary>
[Collection(SerialCollection.Name)]
public class PyTorchFileFixtureTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "pretrained", name);

    [Fact]
    public void ReadsEveryValueOfACheckpointSavedByPyTorch()
    {
        using var scope = NewDisposeScope();
        var root = Assert.IsType<OrderedDictionary<object, object?>>(PyTorchFile.load(Fixture("checkpoint.pt")));
        Assert.Equal(["model", "epoch", "lr", "name", "flags", "shape", "nested", "blob"], root.Keys);
        Assert.Equal(3L, root["epoch"]);
        Assert.Equal(0.1, root["lr"]);
        Assert.Equal("vit", root["name"]);
        Assert.Equal(new List<object?> { true, false, null }, root["flags"]);
        Assert.Equal(new object?[] { 2L, 3L }, root["shape"]);
        var nested = Assert.IsType<OrderedDictionary<object, object?>>(root["nested"]);
        Assert.Equal(7L, nested["step"]);
        Assert.Equal(-1.5, nested["ratio"]);
        Assert.Equal("\0\u0001weights"u8.ToArray(), root["blob"]);

        var model = Assert.IsType<OrderedDictionary<object, object?>>(root["model"]);
        Dictionary<string, Tensor> expected = SafeTensors.load_file(Fixture("checkpoint_expected.safetensors"));
        Assert.Equal(expected.Keys.Order(), model.Keys.Cast<string>().Order());
        foreach ((string name, Tensor want) in expected)
        {
            var got = Assert.IsType<Tensor>(model[name]);
            Assert.Equal(want.dtype, got.dtype);
            Assert.Equal(want.shape, got.shape);
            Assert.True((want == got).all().item<bool>(), $"tensor '{name}' differs");
        }
        var transposed = (Tensor)model["transposed"]!;
        Assert.False(transposed.is_contiguous()); // kept as the strided view PyTorch saved
    }

    [Fact]
    public void LoadStateDictFindsTheModelEntryOfATrainingCheckpoint()
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> state = PyTorchFile.load_state_dict(Fixture("checkpoint.pt"));
        Assert.Equal(15, state.Count);
        Assert.Equal([0L, 200, 255], state["u8"].ToArray<byte>().Select(b => (long)b));
    }

    [Fact]
    public void LoadingLeavesNoTensorBehind()
    {
        long before = TestData.SettledLiveCount();
        using (NewDisposeScope())
            PyTorchFile.load_state_dict(Fixture("torchvision_vit.pt"));
        Assert.Equal(before, TestData.SettledLiveCount());
    }

    [Fact]
    public void SavedStateDictReadsBackTensorForTensor()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        Dictionary<string, Tensor> expected = SafeTensors.load_file(Fixture("checkpoint_expected.safetensors"));
        string path = dir.File("state.pt");
        PyTorchFile.save(expected, path);
        var root = Assert.IsType<OrderedDictionary<object, object?>>(PyTorchFile.load(path));
        Assert.Equal(expected.Keys, root.Keys.Cast<string>());
        foreach ((string name, Tensor want) in expected)
        {
            var got = (Tensor)root[name]!;
            Assert.Equal(want.dtype, got.dtype);
            Assert.Equal(want.shape, got.shape);
            Assert.True((want == got).all().item<bool>(), $"tensor '{name}' differs");
        }
    }
}
