using LowRankBias.Torch.IO;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Torch.Tests.Models;

/// <summary>
/// torchvision / timm / Hugging Face checkpoints made by tests/fixtures/pretrained/make_vit_fixtures.py with
/// PyTorch 1.13 and torchvision 0.14: loaded, they must give the logits PyTorch computed for the same input.
/// </summary>
public partial class VisionTransformerPretrainedTests
{
    private static string Fixture(string name) => PyTorchFileFixtureTests.Fixture(name);

    public static TheoryData<string, VitLayout, string> Checkpoints => new()
    {
        { "torchvision_vit.pt", VitLayout.Torchvision, "torchvision" },
        { "torchvision_vit.safetensors", VitLayout.Torchvision, "torchvision" },
        { "timm_vit.safetensors", VitLayout.Timm, "timm" },
        { "hf_vit.safetensors", VitLayout.HuggingFace, "hf" },
    };

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void LoadedCheckpointGivesPyTorchsLogits(string file, VitLayout layout, string output)
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> reference = SafeTensors.load_file(Fixture("vit_outputs.safetensors"));
        using VisionTransformer vit = VisionTransformer.from_pretrained(Fixture(file), num_heads: 2);
        vit.eval();
        Assert.Equal(new VisionTransformer.Config
        {
            image_size = 32, patch_size = 4, in_channels = 3, num_classes = 10, num_layers = 2, num_heads = 2, hidden_dim = 32, mlp_dim = 64,
            norm_eps = layout == VitLayout.HuggingFace ? 1e-12 : 1e-6,
        }, vit.config);
        Tensor logits = vit.call(reference["input"]);
        double error = (logits - reference[output]).abs().max().item<float>();
        Assert.True(error < 1e-5, $"{file}: max |logits - PyTorch's| = {error}");
    }

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void ExportGivesBackTheOriginalFileTensorForTensor(string file, VitLayout layout, string _)
    {
        using var scope = NewDisposeScope();
        using VisionTransformer vit = VisionTransformer.from_pretrained(Fixture(file), layout, num_heads: 2);
        Dictionary<string, Tensor> original = file.EndsWith(".pt") ? PyTorchFile.load_state_dict(Fixture(file)) : SafeTensors.load_file(Fixture(file));
        Dictionary<string, Tensor> exported = vit.export_state_dict(layout);
        Assert.Equal(original.Keys.Order(), exported.Keys.Order());
        foreach ((string key, Tensor want) in original)
        {
            Assert.Equal(want.shape, exported[key].shape);
            Assert.True((want == exported[key]).all().item<bool>(), $"'{key}' differs after import and export");
        }
    }

    [Fact]
    public void SavedFilesLoadBackInEveryLayout()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        Dictionary<string, Tensor> reference = SafeTensors.load_file(Fixture("vit_outputs.safetensors"));
        using VisionTransformer vit = VisionTransformer.from_pretrained(Fixture("torchvision_vit.pt"), num_heads: 2);
        vit.eval();
        Tensor expected = vit.call(reference["input"]);
        foreach ((VitLayout layout, string extension) in Enum.GetValues<VitLayout>().SelectMany(l => new[] { (l, ".safetensors"), (l, ".pt") }))
        {
            string path = dir.File(layout + extension);
            vit.save_pretrained(path, layout);
            // Detected from the names; the eps is pinned because the Hugging Face default (1e-12) is not this model's.
            using VisionTransformer again = VisionTransformer.from_pretrained(path, num_heads: 2, norm_eps: 1e-6);
            again.eval();
            Assert.True(torch.allclose(again.call(reference["input"]), expected, 0, 0), $"{layout}: logits changed");
        }
    }

    [Fact]
    public void MissingAndUnexpectedKeysAreListedTogether()
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> state = SafeTensors.load_file(Fixture("torchvision_vit.safetensors"));
        state.Remove("encoder.layers.encoder_layer_1.mlp.3.bias");
        state.Remove("heads.head.weight");
        state["heads.pre_logits.weight"] = zeros([4, 4]);
        var e = Assert.Throws<InvalidDataException>(() => VisionTransformer.from_state_dict(state, num_heads: 2));
        Assert.Contains("does not fit a Torchvision Vision Transformer with 2 blocks", e.Message);
        Assert.Contains("missing keys [encoder.layers.encoder_layer_1.mlp.3.bias, heads.head.weight]", e.Message);
        Assert.Contains("unexpected keys [heads.pre_logits.weight]", e.Message);
    }

    [Fact]
    public void WrongShapesAndUnknownLayoutsAreNamed()
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> state = SafeTensors.load_file(Fixture("timm_vit.safetensors"));
        state["blocks.1.mlp.fc2.weight"] = zeros([32, 65]);
        var shape = Assert.Throws<InvalidDataException>(() => VisionTransformer.from_state_dict(state, num_heads: 2));
        Assert.Contains("blocks.1.mlp.fc2.weight", shape.Message);
        Assert.Contains("[32, 65]", shape.Message);

        var unknown = Assert.Throws<InvalidDataException>(() => VisionTransformer.from_state_dict(new Dictionary<string, Tensor> { ["fc.weight"] = zeros([2, 2]) }));
        Assert.Contains("match no known Vision Transformer layout", unknown.Message);

        var heads = Assert.Throws<InvalidDataException>(() => VisionTransformer.from_pretrained(Fixture("timm_vit.safetensors")));
        Assert.Contains("pass num_heads", heads.Message);
    }

    [Fact]
    public void ExportRefusesAModelWithReplacedLayers()
    {
        using var scope = NewDisposeScope();
        using VisionTransformer vit = VisionTransformer.from_pretrained(Fixture("torchvision_vit.pt"), num_heads: 2);
        vit.set_submodule("blocks.0.attn.q", new LowRankBias.Torch.Modules.Identity());
        var e = Assert.Throws<InvalidOperationException>(() => vit.export_state_dict(VitLayout.Torchvision));
        Assert.Contains("missing [blocks.0.attn.q.weight, blocks.0.attn.q.bias]", e.Message);
    }
}
