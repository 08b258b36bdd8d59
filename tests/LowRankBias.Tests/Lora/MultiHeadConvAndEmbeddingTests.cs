using LowRankBias.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

/// <summary>
/// Multi-head LoRA on convolutions and embeddings against the single-head layers (the independent reference): in
/// split mode group n of the batch gets exactly what a lone LoRA with head n's factors gives it; in shared mode every
/// row gets the mean of the N lone LoRAs' outputs (scale s/N); the merged update is the mean of their ΔW.
/// </summary>
public sealed class MultiHeadConvAndEmbeddingTests
{
    private const int Heads = 3, Rank = 2;

    private static LoraConfig Config(HeadInput input) => new() { r = Rank, lora_alpha = 5, num_heads = Heads, head_input = input };

    private static Conv2d Conv(int seed)
    {
        var conv = new Conv2d(2, 4, 3, stride: 2, padding: 1, dtype: F64);
        using var scope = NewDisposeScope();
        Fill(conv.weight, TestData.Randn(seed, 4, 2, 3, 3));
        Fill(conv.bias!, TestData.Randn(seed + 1, 4));
        return conv;
    }

    private static Embedding Table(int seed, long? padding = null)
    {
        var table = new Embedding(7, 5, padding_idx: padding, dtype: F64);
        using var scope = NewDisposeScope();
        Fill(table.weight, TestData.Randn(seed, 7, 5));
        return table;
    }

    // A lone LoRA on a copy of the base whose factors are head n's.
    private static T Lone<T>(T lone, LoraLayer heads, int n) where T : LoraLayer
    {
        using var scope = NewDisposeScope();
        Fill(lone.lora_A["default"], heads.lora_A["default"].select(0, n));
        Fill(lone.lora_B["default"], heads.lora_B["default"].select(0, n));
        return lone;
    }

    public static TheoryData<HeadInput> Modes => new() { HeadInput.Split, HeadInput.Shared };

    [Theory]
    [MemberData(nameof(Modes))]
    public void ConvolutionHeadsMatchLoneLoras(HeadInput mode)
    {
        using var scope = NewDisposeScope();
        using var heads = new LoraConv2d(Conv(1), Config(mode));
        Randomize(heads, "default", 3);
        Assert.Equal([Heads, Rank, 2, 3, 3], heads.lora_A["default"].shape);
        Assert.Equal([Heads, 4, Rank, 1, 1], heads.lora_B["default"].shape);
        var lones = Enumerable.Range(0, Heads).Select(n => Lone(new LoraConv2d(Conv(1), Config(mode) with { num_heads = 1 }), heads, n)).ToArray();
        Tensor x = TestData.Randn(5, 2 * Heads, 2, 6, 6);
        AssertMatches(heads, lones, x, mode);
        foreach (var lone in lones) lone.Dispose();
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void EmbeddingHeadsMatchLoneLorasAndLeaveThePaddingRowAlone(HeadInput mode)
    {
        using var scope = NewDisposeScope();
        using var heads = new LoraEmbedding(Table(1, padding: 0), Config(mode));
        Randomize(heads, "default", 3);
        Assert.Equal([Heads, Rank, 7], heads.lora_A["default"].shape);
        var lones = Enumerable.Range(0, Heads).Select(n => Lone(new LoraEmbedding(Table(1), Config(mode) with { num_heads = 1 }), heads, n)).ToArray();
        Tensor x = tensor(Enumerable.Range(0, 2 * Heads * 4).Select(i => (long)((i * 5 + 1) % 7)).ToArray(), [2 * Heads, 4]);
        AssertMatches(heads, lones, x, mode, padding: 0);
        foreach (var lone in lones) lone.Dispose();
    }

    [Fact]
    public void FreshEmbeddingHeadsDrawAAndZeroBSoAResetRestartsThem()
    {
        using var heads = new LoraEmbedding(Table(1), Config(HeadInput.Split) with { init_lora_weights = LoraInit.SemiOrthogonal });
        Assert.True(heads.lora_A["default"].abs().sum().item<double>() > 0);
        Assert.Equal(0.0, heads.lora_B["default"].abs().sum().item<double>());
    }

    private static void AssertMatches(LoraLayer heads, LoraLayer[] lones, Tensor x, HeadInput mode, long? padding = null)
    {
        Tensor baseOutput = heads.base_layer.call(x);
        Tensor[] lone = lones.Select(l => l.call(x) - baseOutput).ToArray();
        if (padding is long p)
        {
            Tensor keep = (x != p).unsqueeze(-1).to(F64);
            lone = lone.Select(t => t * keep).ToArray();
        }
        Tensor expected = mode == HeadInput.Shared
            ? baseOutput + stack(lone).mean([0])
            : baseOutput + cat(Enumerable.Range(0, Heads).Select(n => lone[n].chunk(Heads, 0)[n]).ToArray(), 0);
        AssertRelative(expected, heads.call(x), 1e-12, $"{heads.GetType().Name} {mode}");
        Tensor meanDelta = stack(lones.Select(l => l.get_delta_weight("default")).ToArray()).mean([0]);
        AssertRelative(meanDelta, heads.get_delta_weight("default"), 1e-12, "merged update");
    }
}
