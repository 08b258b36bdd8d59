using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Models;

public class VisionTransformerTests
{
    private static readonly VisionTransformer.Config Tiny = new()
    {
        image_size = 8, patch_size = 4, in_channels = 2, num_classes = 3, num_layers = 2, num_heads = 2, hidden_dim = 8, mlp_dim = 12,
    };

    [Fact]
    public void ForwardMapsImagesToClassLogits()
    {
        using var scope = NewDisposeScope();
        using var vit = new VisionTransformer(Tiny, dtype: ScalarType.Float64);
        Assert.Equal(4, Tiny.num_patches);
        Assert.Equal(new long[] { 1, 5, 8 }, vit.pos_embedding.shape);
        Assert.Equal(new long[] { 5, 3 }, vit.call(Randn(1, 5, 2, 8, 8)).shape);
    }

    [Fact]
    public void FashionMnistPresetTakes28PixelGreyImagesAs49Patches()
    {
        using var scope = NewDisposeScope();
        using var vit = new VisionTransformer(VisionTransformer.Config.ViT_Tiny);
        Assert.Equal(49, vit.config.num_patches);
        Assert.Equal(new long[] { 2, 10 }, vit.call(randn([2, 1, 28, 28])).shape);
    }

    [Fact]
    public void ForwardIsTheDocumentedComposition()
    {
        using var scope = NewDisposeScope();
        using var vit = new VisionTransformer(Tiny, dtype: ScalarType.Float64);
        Tensor x = Randn(2, 3, 2, 8, 8);
        // Patch i (row-major over the 2×2 grid) is the conv output at that grid cell; the class token goes first.
        Tensor patches = vit.conv_proj.call(x).flatten(2).transpose(1, 2);
        Tensor h = cat([vit.class_token.expand(3, 1, 8), patches], 1) + vit.pos_embedding;
        foreach (Module block in vit.blocks) h = block.call(h);
        Tensor expected = vit.head.call(vit.ln.call(h).select(1, 0));
        AssertClose(expected.ToArray<double>(), vit.call(x), 1e-13);
    }

    [Fact]
    public void EveryLinearIsReachableByPathAndReplaceable()
    {
        using var scope = NewDisposeScope();
        using var vit = new VisionTransformer(Tiny, dtype: ScalarType.Float64);
        string[] expected = Enumerable.Range(0, 2)
            .SelectMany(i => new[] { "attn.q", "attn.k", "attn.v", "attn.o", "mlp.fc1", "mlp.fc2" }.Select(l => $"blocks.{i}.{l}"))
            .Append("head").ToArray();
        Assert.Equal(expected, ReplaceableLayers.PathsOf<Linear>(vit));
        Assert.Equal(new[] { "conv_proj" }, ReplaceableLayers.PathsOf<Conv2d>(vit));
        ReplaceableLayers.AssertEachReplacementChangesTheOutput(vit, expected.Append("conv_proj"), Randn(3, 2, 2, 8, 8));
    }

    [Fact]
    public void ClassTokenStartsAtZeroAndPositionsAreSmall()
    {
        using var scope = NewDisposeScope();
        using var vit = new VisionTransformer(Tiny with { image_size = 64 });
        Assert.Equal(0.0, vit.class_token.abs().sum().item<float>());
        Init.SampleStats.Of(vit.pos_embedding.detach()).AssertMatches(0, 0.02 * 0.02);
    }

    [Fact]
    public void BadImagesAndConfigurationsAreClearErrors()
    {
        using var scope = NewDisposeScope();
        using var vit = new VisionTransformer(Tiny);
        Assert.Contains("expects images [N, 2, 8, 8]", Assert.Throws<ArgumentException>(() => vit.call(zeros([1, 2, 12, 12]))).Message);
        Assert.Contains("expects 2 input channels, got 3", Assert.Throws<ArgumentException>(() => vit.call(zeros([1, 3, 8, 8]))).Message);
        Assert.Contains("not divisible by patch_size", Assert.Throws<ArgumentException>(() => new VisionTransformer(Tiny with { image_size = 10 })).Message);
        Assert.Contains("does not divide hidden_dim", Assert.Throws<ArgumentException>(() => new VisionTransformer(Tiny with { num_heads = 3 })).Message);
    }
}
