using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Tests.Lora;
using VisionTransformer = LowRankBias.Torch.Models.VisionTransformer;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lte;

/// <summary>
/// LTE beyond linear layers: heads on convolutions and embeddings, and per-head offsets of every parameter without a
/// low-rank form (LayerNorm affine, biases, a ViT's class token, position embedding and patch projection, left-out
/// layers), averaged or vector-scalar. The truth for group n of a split forward pass is the plain model with head n's
/// parameters written into it — every head made equal to head n, then folded by the evaluation path, which runs the
/// unmodified layers (no hooks, no heads) on the folded weights.
/// </summary>
public sealed class LteEveryLayerTests
{
    private const int Heads = 2;

    private static LteOptions Options(LteNonLowRank mode, ModuleSelector targets, ModuleSelector? exclude = null) =>
        new() { Heads = Heads, Rank = 2, Alpha = 4, MergeEvery = 0, NonLowRank = mode, Targets = targets, Exclude = exclude };

    private static VisionTransformer Vit()
    {
        manual_seed(7);
        return new VisionTransformer(new VisionTransformer.Config
        {
            image_size = 8, patch_size = 4, in_channels = 1, num_classes = 3, num_layers = 1, num_heads = 2, hidden_dim = 8, mlp_dim = 16,
        }, dtype: F64);
    }

    public static TheoryData<LteNonLowRank> Modes => new() { LteNonLowRank.Averaged, LteNonLowRank.VectorScalar };

    [Theory]
    [MemberData(nameof(Modes))]
    public void EveryGroupOfAVitRunsItsHeadsModelWithTokensNormsAndPatchProjection(LteNonLowRank mode)
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(Vit(), Options(mode, new[] { "q", "k", "v", "o", "fc1", "fc2", "conv_proj" }, new[] { "head" }));
        Assert.IsType<LoraConv2d>(lte.model.get_submodule("conv_proj"));
        foreach (string name in new[] { "class_token", "pos_embedding", "conv_proj.bias", "blocks.0.ln_1.weight", "ln.bias", "head.weight" })
            lte.replica(name, 1).Dispose();
        AssertEachGroupRunsItsHeadsModel(lte, TestData.Randn(11, 2 * Heads, 1, 8, 8));
        AssertMergeFoldsTheMeanAndRestarts(lte, TestData.Randn(12, 2 * Heads, 1, 8, 8), "blocks.0.ln_1.weight");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EmbeddingsTrainAsHeadsOrAsAveragedReplicas(bool heads)
    {
        using var scope = NewDisposeScope();
        ModuleSelector targets = heads ? new[] { "embed", "fc1", "fc2" } : ModuleSelector.AllLinear;
        using var lte = new LowRankBias.Lte.Lte(new TokenNet(), Options(LteNonLowRank.Averaged, targets, new[] { "head" }));
        Assert.Equal(heads, lte.model.get_submodule("embed") is LoraEmbedding);
        Tensor tokens = TokenNet.Tokens(3, 2 * Heads, 5);
        AssertEachGroupRunsItsHeadsModel(lte, tokens);
        AssertMergeFoldsTheMeanAndRestarts(lte, tokens, heads ? "head.bias" : "embed.weight");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ConvolutionsTrainAsHeadsOrAsAveragedReplicas(bool heads)
    {
        using var scope = NewDisposeScope();
        ModuleSelector targets = heads ? new[] { "conv", "fc" } : new[] { "fc" };
        using var lte = new LowRankBias.Lte.Lte(new ConvNet(), Options(LteNonLowRank.Averaged, targets, new[] { "head" }));
        Tensor images = TestData.Randn(4, 2 * Heads, ConvNet.Channels, ConvNet.Side, ConvNet.Side);
        AssertEachGroupRunsItsHeadsModel(lte, images);
        AssertMergeFoldsTheMeanAndRestarts(lte, images, "conv.bias", heads ? "conv.base_layer.bias" : "conv.bias");
    }

    [Fact]
    public void VectorScalarOffsetsAreScaledRankOneVectorsThatAMergeZeroes()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(Vit(), Options(LteNonLowRank.VectorScalar, ModuleSelector.AllLinear, new[] { "head" }));
        Tensor[] vectors = lte.head_parameters().Where(p => p.dim() == 2 && p.size(1) == 1).ToArray();
        Assert.NotEmpty(vectors);  // the scalars bₙ, one per head, of every 1-d parameter
        Randomize(lte, 5);
        using (Tensor shared = lte.replica("ln.weight", 0) - lte.replica("ln.weight", 1))
            Assert.True(shared.abs().max().item<double>() > 0);
        lte.Merge();
        Assert.All(vectors, b => Assert.Equal(0.0, b.abs().max().item<double>()));
        AssertRelative(lte.replica("ln.weight", 0), lte.replica("ln.weight", 1), 0, "replicas after a merge");
    }

    private static void Randomize(LowRankBias.Lte.Lte lte, int seed)
    {
        int i = 0;
        foreach (Tensor p in lte.head_parameters())
            Fill(p, TestData.Randn(seed + i++, p.shape) * 0.3);
    }

    // Group n of the split forward pass = the plain model carrying head n's parameters.
    private static void AssertEachGroupRunsItsHeadsModel(LowRankBias.Lte.Lte lte, Tensor x)
    {
        Randomize(lte, 100);
        lte.train();
        Tensor split = lte.call(x);
        Tensor[] saved = lte.head_parameters().Select(p => p.detach().clone()).ToArray();
        Tensor[] groups = x.chunk(Heads, 0), outputs = split.chunk(Heads, 0);
        for (int n = 0; n < Heads; n++)
        {
            foreach (Tensor p in lte.head_parameters()) Fill(p, p.select(0, n).unsqueeze(0).expand(p.shape));
            lte.eval();
            AssertRelative(lte.call(groups[n]), outputs[n], 1e-10, $"group {n}");
            lte.train();
            foreach ((Tensor p, Tensor copy) in lte.head_parameters().Zip(saved)) Fill(p, copy);
        }
    }

    // After a merge the heads are restarted: the split pass equals the merged model, which is what evaluation gave before.
    private static void AssertMergeFoldsTheMeanAndRestarts(LowRankBias.Lte.Lte lte, Tensor x, string replicated, string? stateName = null)
    {
        Randomize(lte, 200);
        lte.eval();
        Tensor merged = lte.call(x);
        lte.train();
        Tensor mean = stack(Enumerable.Range(0, Heads).Select(n => lte.replica(replicated, n)).ToArray()).mean([0]);
        lte.Merge();
        AssertRelative(merged, lte.call(x), 1e-10, "split pass after the merge");
        AssertRelative(mean, lte.model.get_parameter(stateName ?? replicated), 1e-12, $"{replicated} after the merge");
    }
}
