using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.Distributed;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;
using static LowRankBias.Tests.Lora.LoraTestKit;
using static LowRankBias.Tests.Lte.LteTestKit;

namespace LowRankBias.Tests.Lte;

/// <summary>The merge controller (<see cref="LteOptions.AdaptiveMerge"/>) and head resets (<see cref="LteOptions.ReseedAbove"/>).</summary>
public sealed class LteMergeControllerTests(ITestOutputHelper output)
{
    private const int Steps = 12;
    private const ulong Seed = 11;

    // fc1 and head both carry 4 heads of rank 2; s = α/r = 2.
    private static readonly LteOptions Fixed = new() { Heads = 4, Rank = 2, Alpha = 4, MergeEvery = 3, MaxGradNorm = 0.5 };

    // Merges after 2 to 5 steps, as soon as the heads' updates point apart (mean cosine below 0.25) or their average
    // reaches 3% of the weights.
    internal static readonly LteAdaptiveMerge Budget = new() { MinEvery = 2, MaxEvery = 5, CosineBelow = 0.25, NormBudget = 0.03 };

    [Fact]
    public void TheControllerReadsTheMeanPairwiseCosineAndRelativeNormOfTheHeadsUpdates()
    {
        using var scope = NewDisposeScope();
        // Thresholds that never fire: the statistics are computed after every step and merges stay at T_max = 100.
        var run = Run(Fixed with { AdaptiveMerge = new() { MinEvery = 1, MaxEvery = 100, CosineBelow = -1 } }, steps: 3);
        LteHeadStatistics statistics = run.trainer.LastStatistics!;
        Assert.Equal(3, statistics.Iteration);

        // Oracle: every head's update s·BₙAₙ of both layers as one float64 vector, from the full products.
        string[] layers = ["fc1", "head"];
        Vector<double>[] updates = Enumerable.Range(0, 4).Select(n => Vector<double>.Build.DenseOfEnumerable(layers.SelectMany(path =>
        {
            MultiHeadLoraLinear lora = LoraAt(run.lte, path);
            return (2.0 * M(Head(lora.lora_B["default"], n)) * M(Head(lora.lora_A["default"], n))).ToColumnMajorArray();
        }))).ToArray();
        double cosines = 0;
        for (int i = 0; i < 4; i++)
            for (int j = i + 1; j < 4; j++) cosines += updates[i].DotProduct(updates[j]) / (updates[i].L2Norm() * updates[j].L2Norm());
        double weights = Math.Sqrt(layers.Sum(path => Math.Pow(M(LoraAt(run.lte, path).weight).FrobeniusNorm(), 2)));
        double relative = updates.Aggregate((a, b) => a + b).L2Norm() / 4 / weights;

        Assert.Equal(cosines / 6, statistics.MeanPairwiseCosine, 1e-12);
        Assert.Equal(relative, statistics.RelativeUpdateNorm, 1e-12);
        Assert.InRange(relative, 1e-4, 1);   // the heads did move
    }

    [Fact]
    public void ThresholdsThatNeverFireReduceTheControllerToTheFixedPeriodBitForBit()
    {
        using var scope = NewDisposeScope();
        var periodic = Run(Fixed, Steps);
        var bounds = Run(Fixed with { MergeEvery = 7, AdaptiveMerge = LteAdaptiveMerge.Fixed(3) }, Steps);
        var silent = Run(Fixed with { AdaptiveMerge = new() { MinEvery = 1, MaxEvery = 3, CosineBelow = -1, NormBudget = 1e300 } }, Steps);

        Assert.Equal([3, 6, 9, 12], periodic.merges);
        Assert.Equal(periodic.merges, bounds.merges);
        Assert.Equal(periodic.merges, silent.merges);
        Assert.Equal(periodic.bits, bounds.bits);
        Assert.Equal(periodic.bits, silent.bits);
        Assert.NotNull(silent.trainer.LastStatistics);   // computed, and changed nothing
        Assert.Null(periodic.trainer.LastStatistics);
    }

    [Fact]
    public void DecisionsFollowTheRuleAndAreTheSameForTheSameSeed()
    {
        using var scope = NewDisposeScope();
        LteOptions options = Fixed with { AdaptiveMerge = Budget };
        var first = Run(options, Steps);
        var second = Run(options, Steps);
        foreach ((long step, LteHeadStatistics? s, long since) in first.trace)
            output.WriteLine($"step {step}: since {since}, {s}, merged {first.merges.Contains(step)}");
        Assert.Equal(first.merges, second.merges);
        Assert.Equal(first.bits, second.bits);

        // Re-derive every decision from the statistics the trainer reported: merge at T_max, or from T_min on when
        // the budget is reached; never sooner.
        long last = 0;
        foreach ((long step, LteHeadStatistics? statistics, _) in first.trace)
        {
            long since = step - last;
            bool expected = since >= Budget.MaxEvery
                || (since >= Budget.MinEvery && statistics is { } s && s.Iteration == step
                    && (s.MeanPairwiseCosine < Budget.CosineBelow || s.RelativeUpdateNorm >= Budget.NormBudget));
            Assert.True(expected == first.merges.Contains(step), $"step {step}, {since} after the last merge, statistics {statistics}");
            if (expected) last = step;
        }
        // The controller acted: merges came at different intervals, some before T_max.
        long[] intervals = [.. first.merges.Zip(first.merges.Prepend(0), (a, b) => a - b)];
        Assert.Contains(intervals, i => i < Budget.MaxEvery);
        Assert.True(intervals.Distinct().Count() > 1, $"intervals {string.Join(", ", intervals)}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryRankTakesTheSingleDeviceDecisions(int world)
    {
        LteOptions options = Fixed with { AdaptiveMerge = Budget };
        long[] single;
        using (NewDisposeScope()) single = Run(options, Steps).merges;
        long[][] ranks = LocalRanks.Run(world, group =>
        {
            using var scope = NewDisposeScope();
            var lte = new DistributedLte(new Mlp(1), options, group, Seed);
            using var adamW = new AdamW(lte.local.ParameterGroups(new AdamWOptions { lr = 0.05, weight_decay = 0.1 }));
            var trainer = new DistributedLteTrainer(lte, adamW, Mse);
            var merges = new List<long>();
            for (int step = 0; step < Steps; step++)
            {
                (Tensor x, Tensor y) = Batch(step, 8);
                long before = lte.Merges;
                trainer.Step(x, y);
                if (lte.Merges > before) merges.Add(trainer.Iteration);
            }
            lte.local.Dispose();
            return merges.ToArray();
        });
        output.WriteLine($"single-device merges: {string.Join(", ", single)}");
        Assert.All(ranks, r => Assert.Equal(single, r));
    }

    [Fact]
    public void ACollapsedHeadIsReseededAndLosesItsMomentsTheOthersKeepTheirs()
    {
        using var scope = NewDisposeScope();
        // Same data for every head, and head 2 starts as a copy of head 0: their updates coincide (cosine 1).
        LteOptions options = Fixed with { Heads = 3, MergeEvery = 0, Sampling = HeadSampling.Same, MaxGradNorm = null, ReseedAbove = 0.999 };
        manual_seed(3);
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), options);
        lte.ReseedHeads(Seed);
        MultiHeadLoraLinear fc1 = LoraAt(lte, "fc1");
        using (no_grad())
            foreach ((_, LoraLayer lora) in lte.lora_layers()) lora.lora_A["default"].select(0, 2).copy_(lora.lora_A["default"].select(0, 0));
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        trainer.Step(Batch(0, 4).x, Batch(0, 4).y);
        trainer.Step(Batch(1, 4).x, Batch(1, 4).y);
        double[] a = ToDoubles(fc1.lora_A["default"]);
        trainer.Merge();

        Assert.Equal(1, trainer.HeadResets);
        double[] after = ToDoubles(fc1.lora_A["default"]);
        int size = a.Length / 3;
        Assert.Equal(a[..(2 * size)], after[..(2 * size)]);                      // heads 0 and 1 keep A
        Assert.NotEqual(a[(2 * size)..], after[(2 * size)..]);                   // head 2 has a new one
        int index = adamW.param_groups.SelectMany(g => g.@params).ToList().FindIndex(p => ReferenceEquals(p, fc1.lora_A["default"]));
        double[] moments = ToDoubles(adamW.state_dict().state[index].tensors["exp_avg"]);
        Assert.All(moments[(2 * size)..], v => Assert.Equal(0.0, v));
        Assert.Contains(moments[..size], v => v != 0);
        // Heads that merely resemble each other are left alone.
        Assert.Equal(0, Run(Fixed with { ReseedAbove = 0.999 }, 6).trainer.HeadResets);
    }

    [Fact]
    public void AcrossRanksEveryRankCountsTheResetAndOnlyTheOwnerRedrawsTheHead()
    {
        // One head per rank, both on the same data; rank 1's head starts as a copy of head 0 (drawn from the same seed).
        LteOptions options = Fixed with { Heads = 2, MergeEvery = 0, Sampling = HeadSampling.Same, MaxGradNorm = null, ReseedAbove = 0.999 };
        var outcomes = LocalRanks.Run(2, group =>
        {
            using var scope = NewDisposeScope();
            var lte = new DistributedLte(new Mlp(1), options, group, Seed);
            if (group.rank == 1)
            {
                using var reference = new LowRankBias.Lte.Lte(new Mlp(1), options);
                reference.ReseedHeads(Seed);
                using (no_grad())
                    foreach (((_, LoraLayer mine), (_, LoraLayer first)) in lte.local.lora_layers().Zip(reference.lora_layers()))
                        mine.lora_A["default"].select(0, 0).copy_(first.lora_A["default"].select(0, 0));
            }
            using var adamW = new AdamW(lte.local.ParameterGroups(new AdamWOptions { lr = 0.05 }));
            var trainer = new DistributedLteTrainer(lte, adamW, Mse);
            trainer.Step(Batch(0, 4).x, Batch(0, 4).y);
            trainer.Step(Batch(1, 4).x, Batch(1, 4).y);
            double[] before = ToDoubles(LoraAt(lte.local, "fc1").lora_A["default"]);
            trainer.local.Merge();                          // the merge over the group, through the trainer
            double[] after = ToDoubles(LoraAt(lte.local, "fc1").lora_A["default"]);
            lte.local.Dispose();
            return (resets: trainer.local.HeadResets, redrawn: !before.SequenceEqual(after));
        });
        Assert.Equal([(1L, false), (1L, true)], outcomes);
    }

    [Theory]
    [InlineData("AdaptiveMerge.MinEvery", 0, 5, null, null, null)]
    [InlineData("AdaptiveMerge.MaxEvery", 1, 0, null, null, null)]
    [InlineData("AdaptiveMerge.MinEvery", 6, 5, null, null, null)]
    [InlineData("AdaptiveMerge.CosineBelow", 1, 5, 1.5, null, null)]
    [InlineData("AdaptiveMerge.CosineBelow", 1, 5, double.NaN, null, null)]
    [InlineData("AdaptiveMerge.NormBudget", 1, 5, null, 0.0, null)]
    [InlineData("AdaptiveMerge.NormBudget", 1, 5, null, double.PositiveInfinity, null)]
    [InlineData("ReseedAbove", 1, 5, null, null, 0.0)]
    [InlineData("ReseedAbove", 1, 5, null, null, 1.5)]
    public void BadSettingsAreRefusedNamingTheOption(string option, int min, int max, double? cosine, double? budget, double? reseed)
    {
        LteOptions options = Fixed with { AdaptiveMerge = new() { MinEvery = min, MaxEvery = max, CosineBelow = cosine, NormBudget = budget }, ReseedAbove = reseed };
        var error = Assert.ThrowsAny<ArgumentException>(() => new LowRankBias.Lte.Lte(new Mlp(1), options));
        Assert.Equal(option, error.ParamName);
        Assert.Contains(option.Split('.')[^1], error.Message);
    }

    [Fact]
    public void HeadResetsNeedTheResetMergeMode()
    {
        var error = Assert.Throws<ArgumentException>(() => new LowRankBias.Lte.Lte(new Mlp(1), Fixed with { ReseedAbove = 0.9, MergeMode = LteMergeMode.Correction }));
        Assert.Equal("ReseedAbove", error.ParamName);
    }

    [Fact]
    public void RanksWithDifferentControllersAreRefusedNamingTheField()
    {
        string[] messages = LocalRanks.Run(2, group =>
        {
            try
            {
                _ = new DistributedLte(new Mlp(1), Fixed with { AdaptiveMerge = Budget with { NormBudget = group.rank == 0 ? 0.02 : 0.03 } }, group);
                return "accepted";
            }
            catch (LowRankBias.Torch.Distributed.DistributedException e)
            {
                return e.Message;
            }
        });
        Assert.All(messages, m => Assert.Contains("AdaptiveMerge.NormBudget: rank 0 has 0.02, rank 1 has 0.03", m));
    }

    // Trains `steps` cumulative batches of 8 from seed-drawn heads; returns the merge steps, the state's bits and, per
    // step, the statistics the trainer last reported and the steps since the last merge.
    internal static (LowRankBias.Lte.Lte lte, LteTrainer trainer, long[] merges, long[] bits, List<(long step, LteHeadStatistics? statistics, long since)> trace)
        Run(LteOptions options, int steps)
    {
        var lte = new LowRankBias.Lte.Lte(new Mlp(1), options);
        lte.ReseedHeads(Seed);
        var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05, weight_decay = 0.1 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        var merges = new List<long>();
        var trace = new List<(long, LteHeadStatistics?, long)>();
        for (int step = 0; step < steps; step++)
        {
            (Tensor x, Tensor y) = Batch(step, 8);
            long before = trainer.Merges;
            trainer.Step(x, y);
            if (trainer.Merges > before) merges.Add(trainer.Iteration);
            trace.Add((trainer.Iteration, trainer.LastStatistics, trainer.StepsSinceMerge));
        }
        long[] bits = [.. lte.state_dict().Values.SelectMany(t => t.to(ScalarType.Float64).reshape(-1).ToArray<double>()).Select(BitConverter.DoubleToInt64Bits)];
        return (lte, trainer, [.. merges], bits, trace);
    }
}
