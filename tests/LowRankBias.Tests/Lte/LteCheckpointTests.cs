using LowRankBias.Lte;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Training;
using static LowRankBias.Tests.Lte.LteTestKit;

namespace LowRankBias.Tests.Lte;

/// <summary>Checkpoints of an LTE run taken in the middle of a merge cycle resume bit for bit.</summary>
public sealed class LteCheckpointTests
{
    private const int Steps = 10;

    // Heads re-drawn at merges (from the global generator), optimizer state reset, clipping and a schedule: every piece
    // of state a resume must bring back; optionally the merge controller, whose steps since the last merge are state too.
    private static LteOptions Options(LteMergeMode mode, bool adaptive = false, bool ranked = false) => new()
    {
        Heads = 2, Rank = 2, Alpha = 4, MergeEvery = 3, MergeMode = mode, ReinitializeA = mode == LteMergeMode.Reset, ResetOptimizer = true,
        MaxGradNorm = 0.5, Exclude = new[] { "head" },
        AdaptiveMerge = adaptive ? LteMergeControllerTests.Budget : null,
        RankPolicy = ranked ? LteRankPolicyTests.Policy : null,
    };

    [Theory]
    [InlineData(LteMergeMode.Reset, false, 4)]      // one step past the merge of step 3
    [InlineData(LteMergeMode.Correction, false, 4)]
    [InlineData(LteMergeMode.Reset, true, 3)]       // the controller merges at steps 2 and 4, ...
    [InlineData(LteMergeMode.Reset, true, 5)]
    [InlineData(LteMergeMode.Correction, true, 5)]
    [InlineData(LteMergeMode.Reset, false, 4, true)]  // each layer's head rank as the merge of step 3 set it
    public void ResumingInTheMiddleOfAMergeCycleContinuesBitIdentically(LteMergeMode mode, bool adaptive, int stopAt, bool ranked = false)
    {
        string path = Path.Combine(Path.GetTempPath(), $"lrb-lte-{Guid.NewGuid():N}.safetensors");
        try
        {
            long[] straight = Train(mode, adaptive, ranked, from: null, stopAt: Steps, save: null);
            Train(mode, adaptive, ranked, from: null, stopAt: stopAt, save: path);
            manual_seed(999);                                       // the resumed run must not depend on the generator's state now
            long[] resumed = Train(mode, adaptive, ranked, from: path, stopAt: Steps, save: null);
            Assert.Equal(straight, resumed);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ACheckpointNotTakenByAnLteTrainerIsRefused()
    {
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), Options(LteMergeMode.Reset));
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        using Checkpoint plain = Checkpoint.Capture(lte, adamW);
        Assert.Contains("lte.merges", Assert.Throws<InvalidDataException>(() => trainer.Restore(plain)).Message);
    }

    // Trains up to step `stopAt` (from a checkpoint, or from scratch with seed 5), saves a checkpoint if asked, and
    // returns the bits of every tensor of the model's state.
    private static long[] Train(LteMergeMode mode, bool adaptive, bool ranked, string? from, int stopAt, string? save)
    {
        using var scope = NewDisposeScope();
        manual_seed(from is null ? 5UL : 6UL);
        using var lte = new LowRankBias.Lte.Lte(new Mlp(from is null ? 1 : 7), Options(mode, adaptive, ranked));
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.05, weight_decay = 0.1 }));
        var trainer = new LteTrainer(lte, adamW, Mse, new WarmupCosineLR(adamW, warmup_steps: 2, total_steps: Steps));
        if (from is not null)
        {
            using Checkpoint checkpoint = Checkpoint.Load(from);
            trainer.Restore(checkpoint);
        }
        for (long step = trainer.Iteration; step < stopAt; step++)
        {
            (Tensor x, Tensor y) = Batch((int)step, 4);
            trainer.Step(x, y);
        }
        if (save is not null)
        {
            using Checkpoint checkpoint = trainer.Capture();
            checkpoint.Save(save);
        }
        return [.. lte.state_dict().Values.SelectMany(t => t.to(ScalarType.Float64).reshape(-1).ToArray<double>()).Select(BitConverter.DoubleToInt64Bits)];
    }
}
