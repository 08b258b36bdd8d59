using LowRankBias.Lte;
using LowRankBias.Torch.Distributed;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.Distributed;
using static LowRankBias.Tests.Lte.LteTestKit;

namespace LowRankBias.Tests.Lte;

/// <summary>LTE over a Gloo group of ranks (threads of this process on loopback) against the single-device simulation.</summary>
public sealed class DistributedLteTests
{
    private const int Heads = 4, Steps = 7, Batch = 8;
    private const ulong HeadSeed = 11;

    private static readonly LteOptions Options = new() { Heads = Heads, Rank = 2, Alpha = 4, MergeEvery = 3, MaxGradNorm = 0.5 };

    [Theory]
    [InlineData(2, ScalarType.Float64, 1e-12, false)]
    [InlineData(4, ScalarType.Float64, 1e-12, false)]
    [InlineData(2, ScalarType.Float32, 1e-5, false)]
    [InlineData(4, ScalarType.Float64, 1e-12, true)]
    [InlineData(2, ScalarType.Float32, 1e-5, true)]
    public void RanksEndWithTheMainWeightsOfTheSingleDeviceSimulation(int world, ScalarType dtype, double tolerance, bool wide)
    {
        double[][] expected = SingleDevice(dtype, wide);
        double[][][] ranks = LocalRanks.Run(world, group => Distributed(group, dtype, verify: true, wide));
        foreach (double[][] weights in ranks)
            for (int i = 0; i < expected.Length; i++)
                for (int j = 0; j < expected[i].Length; j++)
                    Assert.True(Math.Abs(weights[i][j] - expected[i][j]) <= tolerance * (1 + Math.Abs(expected[i][j])),
                        $"tensor {i} element {j}: {weights[i][j]} vs single-device {expected[i][j]}");
        // The heads actually moved the weights: the comparison is not between two untouched copies.
        double[][] initial = Initial(dtype, wide);
        Assert.Contains(Enumerable.Range(0, initial.Length), i => initial[i].Zip(expected[i]).Any(p => Math.Abs(p.First - p.Second) > 1e-3));
    }

    [Fact]
    public void MergesSendTheChangedTensorsOnlyAndNothingBetweenMerges()
    {
        long[] bytes = LocalRanks.Run(2, group =>
        {
            Distributed(group, ScalarType.Float64, verify: false, wide: false);
            return group.stats.PayloadBytes(CollectiveKind.AllReduce);
        });
        // 3 merges (steps 3, 6, and the final one), each: the change flags of the 4 base tensors (fc1.weight 8×6,
        // fc1.bias 8, head.weight 3×8, head.bias 3, float32 flags) and the changes themselves in float64.
        long perMerge = 4 * 4 + (48 + 8 + 24 + 3) * 8;
        Assert.Equal(3 * perMerge, bytes[0]);
    }

    [Fact]
    public void ALayerWhoseFactorsAreSmallerThanItsWeightSendsTheFactors()
    {
        CommunicationStats[] stats = LocalRanks.Run(2, group =>
        {
            Distributed(group, ScalarType.Float64, verify: false, wide: true);
            return group.stats;
        });
        // fc1 (32 → 32): N·r·(m + n) = 4·2·64 < 2·32·32, so each rank sends its 2 heads' A [2, 2, 32] and B [2, 32, 2]
        // once per merge; the rest — fc1.bias 32, head.weight 3×32, head.bias 3 — goes by all-reduce with the 3 flags.
        Assert.Equal(3 * (2 * 2 * 64) * 8, stats[0].PayloadBytes(CollectiveKind.AllGather));
        Assert.Equal(3 * (3 * 4 + (32 + 96 + 3) * 8), stats[0].PayloadBytes(CollectiveKind.AllReduce));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WhenARankDiesTheSurvivorsReformTheirGroupAndFinishWithTheSameWeights(bool controller)
    {
        // 4 ranks of one head each; rank 2 leaves for good after step 4, mid-way through the second merge cycle. With the
        // merge controller every rank decides from statistics of the all-gathered factors, and the re-formed group must
        // keep deciding alike: the survivors end with the same weights and the same number of merges.
        LteOptions options = controller ? Options with { AdaptiveMerge = new LteAdaptiveMerge { MinEvery = 2, MaxEvery = 5, NormBudget = 0.02 } } : Options;
        var outcomes = LocalRanks.Run(4, group =>
        {
            using var scope = NewDisposeScope();
            var lte = new DistributedLte(Model(ScalarType.Float64, wide: false), options, group, HeadSeed) { Elastic = true, VerifyMerges = true };
            using var adamW = new AdamW(lte.local.ParameterGroups(new AdamWOptions { lr = 0.05, weight_decay = 0.1 }));
            var trainer = new DistributedLteTrainer(lte, adamW, Mse);
            int reformations = 0;
            lte.Reformed += _ => reformations++;
            double loss = 0;
            for (int step = 0; step < 9; step++)
            {
                if (group.rank == 2 && step == 4)
                {
                    group.Dispose(); // its sockets close, as when the process dies
                    return new RankOutcome(false, [], loss, reformations, lte.heads_alive, [], trainer.local.Merges);
                }
                (Tensor x, Tensor y) = Data(step, wide: false);
                loss = trainer.Step(x, y);
            }
            double[][] weights = MainWeights(lte.local.model);
            var result = new RankOutcome(true, weights, loss, reformations, lte.heads_alive, [.. lte.group.previous_ranks], trainer.local.Merges);
            // The re-formed group took the rendezvous store over: closing the original group first leaves it usable.
            group.Dispose();
            Assert.Equal(0, lte.group.pending_joins());
            lte.group.Dispose();
            return result;
        }, timeout: TimeSpan.FromSeconds(10));

        RankOutcome[] survivors = outcomes.Where(o => o.Alive).ToArray();
        Assert.Equal(3, survivors.Length);
        foreach (RankOutcome s in survivors)
        {
            Assert.Equal(1, s.Reformations);
            Assert.Equal(3, s.HeadsAlive);
            Assert.Equal([0, 1, 3], s.PreviousRanks);
            Assert.True(double.IsFinite(s.Loss));
            Assert.Equal(survivors[0].Merges, s.Merges);
            for (int i = 0; i < s.Weights.Length; i++) Assert.Equal(survivors[0].Weights[i], s.Weights[i]);
        }
    }

    [Fact]
    public async Task ARestartedRankRejoinsTheRunningGroupTakesItsWeightsAndItsHeadsBack()
    {
        // 4 ranks of one head, merging every 3 steps; rank 2 dies before step 4, the survivors re-form at the merge of
        // step 6, a restarted rank 2 asks to come back, and the merge of step 9 admits it. All end at step 12 as one group.
        int port = LocalRanks.FreePort();
        using var agent = new TCPStore("127.0.0.1", port, is_server: true, LocalRanks.Timeout, 4);
        DistributedEnvironment Place(int rank) => LocalRanks.Environment(rank, 4, port) with { AgentStore = true };
        using var survivorsMerged = new ManualResetEventSlim();
        Func<Finisher?> Rank(int initial) => () =>
        {
            using var scope = NewDisposeScope();
            bool restarted = initial == -2;
            ProcessGroup group = restarted
                ? ProcessGroup.rejoin("gloo", LocalRanks.Timeout, Place(2))
                : ProcessGroup.init_process_group("gloo", LocalRanks.Timeout, Place(initial));
            var lte = new DistributedLte(Model(ScalarType.Float64, wide: false), Options, group, HeadSeed) { Elastic = true, VerifyMerges = true };
            using var adamW = new AdamW(lte.local.ParameterGroups(new AdamWOptions { lr = 0.05, weight_decay = 0.1 }));
            var trainer = new DistributedLteTrainer(lte, adamW, Mse);
            long firstStep = trainer.Iteration;
            for (long step = firstStep; step < 12; step++)
            {
                if (initial == 2 && step == 3)
                {
                    group.Dispose();
                    return null;
                }
                (Tensor x, Tensor y) = Data((int)step, wide: false);
                trainer.Step(x, y);
                if (initial == 0 && step == 5)
                {
                    survivorsMerged.Set();
                    while (lte.group.pending_joins() == 0) Thread.Sleep(10);
                }
            }
            var result = new Finisher(MainWeights(lte.local.model), firstStep, lte.group.generation, lte.heads_alive, [.. lte.group.previous_ranks]);
            lte.group.Dispose();
            group.Dispose();
            return result;
        };
        Task<Finisher?>[] ranks = [.. new[] { 0, 1, 2, 3 }.Select(r => Task.Factory.StartNew(Rank(r), TaskCreationOptions.LongRunning))];
        Task<Finisher?> restarted = Task.Factory.StartNew(() => { survivorsMerged.Wait(TimeSpan.FromSeconds(30)); return Rank(-2)(); }, TaskCreationOptions.LongRunning);
        Finisher?[] ends = await Task.WhenAll([.. ranks, restarted]).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Null(ends[2]);
        Finisher back = ends[4]!;
        Assert.Equal(9, back.FirstStep);                  // it went on from the merge that admitted it (step 9)
        Finisher[] finishers = [ends[0]!, ends[1]!, back, ends[3]!];
        foreach (Finisher f in finishers)
        {
            Assert.Equal(4, f.HeadsAlive);
            Assert.Equal(2, f.Generation);                // re-formed without rank 2, then with it
            Assert.Equal([0, 1, -1, 2], f.PreviousRanks); // by initial rank; the restarted one had no rank before
            for (int i = 0; i < f.Weights.Length; i++) Assert.Equal(finishers[0].Weights[i], f.Weights[i]);
        }
    }

    private sealed record Finisher(double[][] Weights, long FirstStep, int Generation, int HeadsAlive, int[] PreviousRanks);

    private sealed record RankOutcome(bool Alive, double[][] Weights, double Loss, int Reformations, int HeadsAlive, int[] PreviousRanks, long Merges);

    [Fact]
    public void HeadsThatDoNotSplitEvenlyAndDifferentOptionsAreRefused()
    {
        string[] outcomes = LocalRanks.Run(2, group =>
        {
            Assert.Throws<ArgumentException>(() => new DistributedLte(new Mlp(1), Options with { Heads = 3 }, group));
            try
            {
                _ = new DistributedLte(new Mlp(1), Options with { Rank = 2 + group.rank }, group);
                return "accepted";
            }
            catch (DistributedException e)
            {
                return e.Message;
            }
        });
        Assert.All(outcomes, m => Assert.Contains("Rank: rank 0 has 2, rank 1 has 3", m));
    }

    [Fact]
    public void AnLteRankAndADdpRankFailAtTheHandshakeNamingBoth()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string[] outcomes = LocalRanks.Run(2, group => Outcome(() =>
        {
            if (group.rank == 0) _ = new DistributedLte(new Mlp(1), Options, group);
            else _ = new DistributedDataParallel(new Mlp(1), group);
        }), timeout: TimeSpan.FromSeconds(30));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed.TotalSeconds:F0} s (the group timeout is 30 s)");
        Assert.Contains("ranks run different code: rank 0 checks its LTE configuration, rank 1 its DDP model", outcomes[0]);
        Assert.Contains("ranks run different code: rank 1 checks its DDP model, rank 0 its LTE configuration", outcomes[1]);
    }

    [Fact]
    public void DifferentTargetsOrExcludesAreRefused()
    {
        string[] excludes = LocalRanks.Run(2, group => Outcome(() => _ = new DistributedLte(new Mlp(1), Options with { Exclude = group.rank == 0 ? (LowRankBias.Lora.ModuleSelector)"head" : null }, group)));
        Assert.All(excludes, m => Assert.Contains("ranks were started with different LTE configuration: Exclude: rank 0 has \"head\", rank 1 has null", m));
        string[] targets = LocalRanks.Run(2, group => Outcome(() => _ = new DistributedLte(new Mlp(1), Options with { Targets = group.rank == 0 ? "all-linear" : new[] { "fc1" } }, group)));
        Assert.All(targets, m => Assert.Contains("Targets: rank 0 has", m));
    }

    [Fact]
    public void ModelsThatAdaptDifferentlyAreRefusedAfterAdaptation()
    {
        // Rank 1's first layer has a Linear's parameters but is no Linear: the plain models look alike, yet only
        // rank 0 adapts fc1, so their heads would not correspond.
        string[] outcomes = LocalRanks.Run(2, group => Outcome(() =>
        {
            var model = new Mlp(1);
            if (group.rank == 1) model.fc1 = new Affine((Linear)model.fc1);
            _ = new DistributedLte(model, Options with { NonLowRank = LteNonLowRank.Frozen }, group);
        }));
        Assert.All(outcomes, m => Assert.Contains("ranks were started with different LTE adapted model: Model: rank 0 has", m));
    }

    private static string Outcome(Action construct)
    {
        try
        {
            construct();
            return "accepted";
        }
        catch (DistributedException e)
        {
            return e.Message;
        }
    }

    /// <summary>y = x Wᵀ + b with a Linear's parameter names, but not a <see cref="Linear"/>.</summary>
    private sealed class Affine : Module
    {
        private readonly Tensor _weight, _bias;

        public Affine(Linear like)
        {
            _weight = register_parameter("weight", like.weight.detach().clone())!;
            _bias = register_parameter("bias", like.bias!.detach().clone())!;
        }

        public override Tensor forward(Tensor input) => nn.functional.linear(input, _weight, _bias);
    }

    private static double[][] SingleDevice(ScalarType dtype, bool wide)
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(Model(dtype, wide), Options);
        lte.ReseedHeads(HeadSeed);
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05, weight_decay = 0.1 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        for (int step = 0; step < Steps; step++)
        {
            (Tensor x, Tensor y) = Data(step, wide);
            trainer.Step(x.to(dtype), y.to(dtype));
        }
        trainer.Merge();
        return MainWeights(lte.model);
    }

    private static double[][] Distributed(ProcessGroup group, ScalarType dtype, bool verify, bool wide)
    {
        using var scope = NewDisposeScope();
        var lte = new DistributedLte(Model(dtype, wide), Options, group, HeadSeed) { VerifyMerges = verify };
        using var adamW = new AdamW(lte.local.ParameterGroups(new AdamWOptions { lr = 0.05, weight_decay = 0.1 }));
        var trainer = new DistributedLteTrainer(lte, adamW, Mse);
        for (int step = 0; step < Steps; step++)
        {
            (Tensor x, Tensor y) = Data(step, wide);
            trainer.Step(x.to(dtype), y.to(dtype));
        }
        lte.Merge();
        Assert.Equal(3, lte.Merges);
        double[][] weights = MainWeights(lte.local.model);
        lte.local.Dispose();
        return weights;
    }

    private static Module Model(ScalarType dtype, bool wide) => (wide ? new Wide() : (Module)new Mlp(1)).to(dtype);

    private static (Tensor x, Tensor y) Data(int step, bool wide) =>
        wide ? (TestData.Randn(1000 + step, Batch, Wide.In), TestData.Randn(2000 + step, Batch, Mlp.Out)) : LteTestKit.Batch(step, Batch);

    private static double[][] Initial(ScalarType dtype, bool wide)
    {
        using Module model = Model(dtype, wide);
        return MainWeights(model);
    }

    /// <summary>fc1 (32 → 32) → tanh → head (32 → 3) in float64: a first layer wide enough for its factors to be the cheaper message.</summary>
    private sealed class Wide : Module
    {
        public const long In = 32;
        public Module fc1 = LowRankBias.Tests.Lora.LoraTestKit.Linear64(In, In, 5);
        public Module head = LowRankBias.Tests.Lora.LoraTestKit.Linear64(In, Mlp.Out, 6);

        public override Tensor forward(Tensor input)
        {
            using Tensor h = fc1.call(input);
            using Tensor a = h.tanh();
            return head.call(a);
        }
    }

    private static double[][] MainWeights(Module model) =>
        [.. new[] { "fc1", "head" }.SelectMany(path => { Linear l = BaseLinear(model, path); return new[] { l.weight, l.bias! }; })
            .Select(t => t.to(ScalarType.Float64).reshape(-1).ToArray<double>())];
}
