using LowRankBias.Torch.IO;
using LowRankBias.Torch.Models;

namespace LowRankBias.Torch.Tests.Models;

// The head count is in no tensor's shape: it comes from the caller, or from a standard size the shapes identify;
// any other width is refused rather than guessed.
public partial class VisionTransformerPretrainedTests
{
    private static VisionTransformer Tiny(long width, long heads, long layers = 1, long mlp = 16, long image = 8) => new(new VisionTransformer.Config
    {
        image_size = image, patch_size = 4, in_channels = 3, num_classes = 3, num_layers = layers, num_heads = heads, hidden_dim = width, mlp_dim = mlp,
    });

    [Fact]
    public void WidthThatFitsSeveralHeadCountsNeedsNumHeads()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using VisionTransformer original = Tiny(width: 128, heads: 4);
        original.eval();
        Dictionary<string, Tensor> state = original.export_state_dict(VitLayout.Torchvision);

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => VisionTransformer.from_state_dict(state));
        Assert.Contains("width 128", error.Message);
        Assert.Contains("pass num_heads", error.Message);

        using VisionTransformer loaded = VisionTransformer.from_state_dict(state, num_heads: 4);
        loaded.eval();
        Tensor x = randn([2, 3, 8, 8]);
        Assert.True((original.call(x) == loaded.call(x)).all().item<bool>());
    }

    [Fact]
    public void NamedSizeGivesItsHeadCount()
    {
        using var scope = NewDisposeScope();
        // Config.ViT_Tiny's blocks (width 128, 4 blocks, MLP 256, 4 heads; width / 64 would say 2) on 8-pixel images.
        VisionTransformer.Config named = VisionTransformer.Config.ViT_Tiny;
        using VisionTransformer tiny = Tiny(width: named.hidden_dim, heads: named.num_heads, layers: named.num_layers, mlp: named.mlp_dim);
        using VisionTransformer loaded = VisionTransformer.from_state_dict(tiny.export_state_dict(VitLayout.Torchvision));
        Assert.Equal(4, loaded.config.num_heads);
    }

    [Theory]
    [InlineData("{\"model_type\": \"vit\", \"num_attention_heads\": 2, \"hidden_size\": 32}")] // Hugging Face
    [InlineData("{\"architecture\": \"vit_custom\", \"model_args\": {\"num_heads\": 2}}")]      // timm
    public void ConfigJsonBesideTheCheckpointGivesTheHeadCount(string config)
    {
        using var scope = NewDisposeScope();
        using var dir = new LowRankBias.Torch.Tests.IO.TempDirectory();
        string checkpoint = dir.File("model.safetensors");
        File.Copy(Fixture("hf_vit.safetensors"), checkpoint);
        Assert.Contains("pass num_heads", Assert.Throws<InvalidDataException>(() => VisionTransformer.from_pretrained(checkpoint)).Message);

        File.WriteAllText(dir.File("config.json"), config);
        using VisionTransformer vit = VisionTransformer.from_pretrained(checkpoint);
        vit.eval();

        Dictionary<string, Tensor> reference = SafeTensors.load_file(Fixture("vit_outputs.safetensors"));
        double error = (vit.call(reference["input"]) - reference["hf"]).abs().max().item<float>();
        Assert.True(error < 1e-5, $"max |logits - PyTorch's| = {error}");
    }

    [Fact]
    public void ANonStandardViTSavedAsSafetensorsLoadsAgainWithItsHeadCount()
    {
        using var scope = NewDisposeScope();
        using var dir = new LowRankBias.Torch.Tests.IO.TempDirectory();
        manual_seed(5);
        using VisionTransformer original = Tiny(width: 128, heads: 4);
        original.eval();
        original.save_pretrained(dir.File("vit.safetensors"));
        using VisionTransformer loaded = VisionTransformer.from_pretrained(dir.File("vit.safetensors"));
        loaded.eval();
        Assert.Equal(4, loaded.config.num_heads);
        Tensor x = randn([2, 3, 8, 8]);
        Assert.True((original.call(x) == loaded.call(x)).all().item<bool>());
    }

    [Theory]
    [InlineData("{\"num_heads\": null}")]
    [InlineData("{\"num_attention_heads\": \"4\"}")]
    public void AHeadCountThatIsNotANumberIsNamed(string config)
    {
        using var scope = NewDisposeScope();
        using var dir = new LowRankBias.Torch.Tests.IO.TempDirectory();
        string checkpoint = dir.File("model.safetensors");
        File.Copy(Fixture("hf_vit.safetensors"), checkpoint);
        File.WriteAllText(dir.File("config.json"), config);
        Assert.Contains("not a positive integer", Assert.Throws<InvalidDataException>(() => VisionTransformer.from_pretrained(checkpoint)).Message);
    }

    [Fact]
    public void DataParallelModulePrefixIsStripped()
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> reference = SafeTensors.load_file(Fixture("vit_outputs.safetensors"));
        Dictionary<string, Tensor> wrapped = PyTorchFile.load_state_dict(Fixture("torchvision_vit.pt")).ToDictionary(p => "module." + p.Key, p => p.Value);

        using VisionTransformer vit = VisionTransformer.from_state_dict(wrapped, num_heads: 2);
        vit.eval();

        double error = (vit.call(reference["input"]) - reference["torchvision"]).abs().max().item<float>();
        Assert.True(error < 1e-5, $"max |logits - PyTorch's| = {error}");
    }
}
