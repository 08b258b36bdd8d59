using LowRankBias.Lte;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Tests.Lte;

/// <summary>
/// LTE paper appendix A.2: a 32×32 weight trained through one rank-4 head on least squares with a full-rank target
/// (all singular values 1). Without merges the loss cannot fall below the best rank-4 fit (about 28/32 of the
/// initial loss); merging (B reset, A redrawn, optimizer state cleared) recovers the full-rank solution, faster for smaller T.
/// </summary>
public sealed class LteLeastSquaresTests
{
    [Fact]
    public void MergingRecoversAFullRankTargetAndMoreOftenIsFaster()
    {
        using var scope = NewDisposeScope();
        using var task = new LowRankRegression(32, 32, rank: 32, seed: 7);
        using TensorDataset data = task.Sample(256, seed: 1);

        double[] noMerge = Run(data, period: 0, steps: 300);
        Assert.True(noMerge[^1] / noMerge[0] > 0.7, $"without merges the loss fell to {noMerge[^1] / noMerge[0]:E2} of its start");
        Assert.True(Math.Abs(noMerge[^1] - noMerge[^50]) < 1e-3 * noMerge[0], "without merges the loss has not plateaued");

        int often = FirstBelow(Run(data, period: 10, steps: 450), 1e-3);
        int rarely = FirstBelow(Run(data, period: 50, steps: 650), 1e-3);
        Assert.True(often > 0 && rarely > 0, $"with merges the loss must fall below 1e-3 of its start (T = 10: step {often}, T = 50: step {rarely})");
        Assert.True(often < rarely, $"merging every 10 steps reached 1e-3 at step {often}, every 50 at step {rarely}");
    }

    private static int FirstBelow(double[] losses, double fraction) => Array.FindIndex(losses, l => l < fraction * losses[0]);

    private static double[] Run(TensorDataset data, int period, int steps)
    {
        using var scope = NewDisposeScope();
        var linear = new Linear(32, 32, bias: false);
        using (no_grad()) linear.weight.zero_();
        var options = new LteOptions { Heads = 1, Rank = 4, Alpha = 4, MergeEvery = period, ReinitializeA = period > 0, ResetOptimizer = period > 0 };
        using var lte = new LowRankBias.Lte.Lte(new Sequential(linear), options);
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.01, weight_decay = 0 }));
        var trainer = new LteTrainer(lte, adamW, (o, t) => F.mse_loss(o, t));
        return Enumerable.Range(0, steps).Select(_ => trainer.Step(data.tensors[0], data.tensors[1])).ToArray();
    }
}
