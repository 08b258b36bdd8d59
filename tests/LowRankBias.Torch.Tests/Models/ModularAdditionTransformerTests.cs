using LowRankBias.Torch.Data;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Models;

public class ModularAdditionTransformerTests
{
    private static readonly ModularAdditionTransformer.Config Tiny = new() { p = 7, d_model = 8, num_heads = 2, d_mlp = 12 };

    [Fact]
    public void DefaultsAreTheGrokkingSetupAndConsumeTheTaskBatches()
    {
        using var scope = NewDisposeScope();
        using var task = new ModularAddition(p: 97, trainFraction: 0.3);
        using var model = new ModularAdditionTransformer(ModularAdditionTransformer.Config.Yunis);
        Assert.Equal((97L, 128L, 4L, 512L, 1L), (model.config.p, model.config.d_model, model.config.num_heads, model.config.d_mlp, model.config.num_layers));
        Assert.Equal(task.VocabularySize, ((Embedding)model.embed).num_embeddings);
        Tensor tokens = task.Train.tensors[0].narrow(0, 0, 5);
        Assert.Equal(new long[] { 5, 97 }, model.call(tokens).shape);
        Assert.Equal(113L, ModularAdditionTransformer.Config.Nanda.p);
    }

    [Fact]
    public void LogitsAreTheUnembeddedLastPositionOfOneResidualBlock()
    {
        using var scope = NewDisposeScope();
        using var model = new ModularAdditionTransformer(Tiny, dtype: ScalarType.Float64);
        Tensor tokens = tensor(new long[,] { { 3, 5, 7 }, { 0, 6, 7 } });
        Tensor h = model.embed.call(tokens) + model.pos_encoding!;
        var block = (TransformerBlock)model.blocks[0];
        Assert.IsType<Identity>(block.ln_1);
        Assert.IsType<ReLU>(((MlpBlock)block.mlp).act);
        h = h + block.attn.call(h);
        h = h + block.mlp.call(h);
        AssertClose(model.unembed.call(h.select(1, 2)).ToArray<double>(), model.call(tokens), 1e-13);
    }

    [Fact]
    public void SinusoidalPositionsFollowTheClosedForm()
    {
        using var scope = NewDisposeScope();
        using var model = new ModularAdditionTransformer(Tiny, dtype: ScalarType.Float64);
        double[] pe = model.pos_encoding!.ToArray<double>();
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(Math.Sin(t / Math.Pow(10000, 2.0 * i / 8)), pe[t * 8 + 2 * i], 14);
                Assert.Equal(Math.Cos(t / Math.Pow(10000, 2.0 * i / 8)), pe[t * 8 + 2 * i + 1], 14);
            }
        Assert.DoesNotContain("pos_encoding", model.state_dict().Keys);
        using var learned = new ModularAdditionTransformer(Tiny with { learned_positions = true });
        Assert.Null(learned.pos_encoding);
        Assert.Equal(new long[] { 3, 8 }, learned.get_parameter("pos_embed.weight").shape);
    }

    [Fact]
    public void WeightsAreScaledByTheWidthAndLayersReplaceable()
    {
        using var scope = NewDisposeScope();
        using var model = new ModularAdditionTransformer(new ModularAdditionTransformer.Config { p = 97, d_model = 64, num_heads = 4, d_mlp = 256 });
        Init.SampleStats.Of(model.get_parameter("blocks.0.mlp.fc1.weight").detach()).AssertMatches(0, 1.0 / 64);
        Init.SampleStats.Of(model.get_parameter("embed.weight").detach()).AssertMatches(0, 1.0 / 64);
        Init.SampleStats.Of(model.get_parameter("unembed.weight").detach()).AssertMatches(0, 1.0 / 98);
        Assert.DoesNotContain(model.named_parameters(), p => p.name.StartsWith("blocks.0.attn") && p.name.EndsWith("bias"));

        using var tiny = new ModularAdditionTransformer(Tiny, dtype: ScalarType.Float64);
        ReplaceableLayers.AssertEachReplacementChangesTheOutput(tiny, ReplaceableLayers.PathsOf<Linear>(tiny), tensor(new long[,] { { 1, 2, 7 } }));
    }

    [Fact]
    public void TooLongInputsAreRejected()
    {
        using var scope = NewDisposeScope();
        using var model = new ModularAdditionTransformer(Tiny);
        Assert.Contains("exceeds n_ctx 3", Assert.Throws<ArgumentException>(() => model.call(zeros([1, 4], ScalarType.Int64))).Message);
    }
}
