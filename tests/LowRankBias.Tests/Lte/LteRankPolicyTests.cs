using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Lora.LoraTestKit;
using static LowRankBias.Tests.Lte.LteTestKit;

namespace LowRankBias.Tests.Lte;

/// <summary>Rank per layer from the data (<see cref="LteOptions.RankPolicy"/>).</summary>
public sealed class LteRankPolicyTests
{
    private const ulong Seed = 11;

    // fc1 is 6 → 8 and head 8 → 3: both can hold rank 3.
    internal static readonly LteRankPolicy Policy = new() { MinRank = 1, MaxRank = 3, ShrinkBelow = 0.75, GrowAbove = 1.0 };

    private static readonly LteOptions Options = new() { Heads = 4, Rank = 2, Alpha = 4, MergeEvery = 0, MaxGradNorm = 0.5, RankPolicy = Policy };

    [Fact]
    public void EachLayerTakesTheRankItsMergedUpdateCallsForAndChangedComponentsLoseTheirMoments()
    {
        using var scope = NewDisposeScope();
        (var lte, var adamW, var trainer) = Build(Options, weightDecay: 0.1);
        string[] layers = ["fc1", "head"];
        int changes = 0;
        for (int cycle = 0; cycle < 4; cycle++)
        {
            for (int step = 0; step < 3; step++) trainer.Step(Batch(3 * cycle + step, 8).x, Batch(3 * cycle + step, 8).y);
            int[] before = [.. lte.head_ranks().Select(r => r.rank)];
            // Oracle: exp(entropy) of the normalised singular values of each update (MathNet SVD), then the rule.
            int[] expected = [.. layers.Select((path, i) => NextRank(before[i], EffectiveRank(M(lte.weight_update(path)))))];
            trainer.Merge();
            Assert.Equal(expected, lte.head_ranks().Select(r => r.rank));
            for (int i = 0; i < layers.Length; i++)
            {
                if (expected[i] == before[i]) continue;
                changes++;
                MultiHeadLoraLinear lora = LoraAt(lte, layers[i]);
                int index = adamW.param_groups.SelectMany(g => g.@params).ToList().FindIndex(p => ReferenceEquals(p, lora.lora_A["default"]));
                using Tensor moment = adamW.state_dict().state[index].tensors["exp_avg"];
                int from = Math.Min(before[i], expected[i]), count = Math.Abs(expected[i] - before[i]);
                Assert.All(ToDoubles(moment.narrow(1, from, count)), v => Assert.Equal(0.0, v));
                Assert.Contains(ToDoubles(moment.narrow(1, 0, from)), v => v != 0);
            }
        }
        Assert.True(changes > 0, "no layer changed its rank: the test would not show the rule");
    }

    [Fact]
    public void UnusedComponentsNeitherActNorLearn()
    {
        using var scope = NewDisposeScope();
        // Rank 1 of an allocation of 3 that never changes: components 1 and 2 of every head stay as drawn (A) and zero (B).
        (var lte, _, var trainer) = Build(Options with { Rank = 1, RankPolicy = Policy with { ShrinkBelow = 0, GrowAbove = 1e9 } }, weightDecay: 0);
        MultiHeadLoraLinear fc1 = LoraAt(lte, "fc1");
        double[] unusedA = ToDoubles(fc1.lora_A["default"].narrow(1, 1, 2));
        for (int step = 0; step < 5; step++) trainer.Step(Batch(step, 8).x, Batch(step, 8).y);
        Assert.Equal(unusedA, ToDoubles(fc1.lora_A["default"].narrow(1, 1, 2)));
        Assert.All(ToDoubles(fc1.lora_B["default"].narrow(2, 1, 2)), v => Assert.Equal(0.0, v));
        Assert.Contains(ToDoubles(fc1.lora_B["default"].narrow(2, 0, 1)), v => v != 0);
        // Each head adds a rank-1 update: the average of 4 has rank at most 4, and the heads' scale is α/1.
        Assert.True(M(lte.weight_update("fc1")).Rank() <= 4);
        Matrix<double> expected = Matrix<double>.Build.Dense(8, 6);
        for (int n = 0; n < 4; n++) expected += 4.0 / 4 * M(Head(fc1.lora_B["default"], n)) * M(Head(fc1.lora_A["default"], n));
        TestData.AssertClose(expected.ToRowMajorArray(), lte.weight_update("fc1"), 1e-13);
    }

    [Fact]
    public void BoundsThatAllowOnlyTheStartingRankReproduceTheFixedRankBitForBit()
    {
        using var scope = NewDisposeScope();
        long[] Bits(LteOptions options)
        {
            (var lte, _, var trainer) = Build(options with { MergeEvery = 3 }, weightDecay: 0.1);
            for (int step = 0; step < 9; step++) trainer.Step(Batch(step, 8).x, Batch(step, 8).y);
            return [.. lte.state_dict().Values.SelectMany(t => t.to(ScalarType.Float64).reshape(-1).ToArray<double>()).Select(BitConverter.DoubleToInt64Bits)];
        }
        Assert.Equal(Bits(Options with { RankPolicy = null }), Bits(Options with { RankPolicy = Policy with { MinRank = 2, MaxRank = 2 } }));
    }

    [Theory]
    [InlineData("RankPolicy.MinRank", 0, 3, 0.5, 1.0)]
    [InlineData("RankPolicy.MaxRank", 3, 2, 0.5, 1.0)]      // below MinRank
    [InlineData("RankPolicy.MaxRank", 3, 3, 0.5, 1.0)]      // the starting rank 2 lies outside [3, 3]
    [InlineData("RankPolicy.GrowAbove", 1, 3, 0.5, 0.5)]
    [InlineData("RankPolicy.ShrinkBelow", 1, 3, -1, 1.0)]
    public void BadBoundsAreRefusedNamingTheOption(string option, int min, int max, double shrink, double grow)
    {
        var policy = new LteRankPolicy { MinRank = min, MaxRank = max, ShrinkBelow = shrink, GrowAbove = grow };
        var error = Assert.ThrowsAny<ArgumentException>(() => new LowRankBias.Lte.Lte(new Mlp(1), Options with { RankPolicy = policy }));
        Assert.Equal(option, error.ParamName);
    }

    [Fact]
    public void ARankBoundAboveALayersSizeIsRefusedNamingTheLayer()
    {
        var model = new Mlp(1);
        var error = Assert.Throws<ArgumentException>(() => new LowRankBias.Lte.Lte(model, Options with { RankPolicy = Policy with { MaxRank = 4 } }));
        Assert.Equal("RankPolicy.MaxRank", error.ParamName);
        Assert.Contains("'head' (3 × 8: at most rank 3)", error.Message);
        Assert.False(model.head is LoraLayer, "the model was adapted although a setting was refused");
        Assert.Equal("RankPolicy", Assert.Throws<ArgumentException>(() =>
            new LowRankBias.Lte.Lte(new Mlp(1), Options with { MergeMode = LteMergeMode.Correction })).ParamName);
    }

    private static (LowRankBias.Lte.Lte, AdamW, LteTrainer) Build(LteOptions options, double weightDecay)
    {
        var lte = new LowRankBias.Lte.Lte(new Mlp(1), options);
        lte.ReseedHeads(Seed);
        var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05, weight_decay = weightDecay }));
        return (lte, adamW, new LteTrainer(lte, adamW, Mse));
    }

    private static double EffectiveRank(Matrix<double> update)
    {
        double[] s = update.Svd(computeVectors: false).S.ToArray();
        double total = s.Sum();
        return Math.Exp(-s.Where(v => v > 0).Sum(v => v / total * Math.Log(v / total)));
    }

    private static int NextRank(int rank, double effective) =>
        effective < Policy.ShrinkBelow * rank ? Math.Max(Policy.MinRank, rank / 2)
        : effective > Policy.GrowAbove * rank ? Math.Min(Policy.MaxRank, rank * 2)
        : rank;
}
