using LowRankBias.Lte;
using LowRankBias.Torch.Optim;
using static LowRankBias.Tests.Lte.LteTestKit;

namespace LowRankBias.Tests.Lte;

/// <summary>ReLoRA's optimizer-state pruning and its place in LTE's options.</summary>
public sealed class OptimizerStateTests
{
    [Fact]
    public void PruningZeroesTheSmallestMomentsAndKeepsTheStepCount()
    {
        using var scope = NewDisposeScope();
        Tensor p = tensor(new[] { 1.0, -8, 3, 0.5, -6, 2, 7, -4 }).requires_grad_();
        using var adamW = new AdamW([p], lr: 0.1, weight_decay: 0);
        (p * p).sum().backward();                  // gradient 2p: the moments are ordered like |p|
        adamW.step();
        OptimizerState.Prune(adamW, [p], 0.75);
        using OptimizerStateDict state = adamW.state_dict();
        double[] m = state.state[0].tensors["exp_avg"].ToArray<double>(), v = state.state[0].tensors["exp_avg_sq"].ToArray<double>();
        // |p| ranks: 8 and 7 are the largest two of eight; 75% pruned keeps exactly them.
        double[] expected = [0, 0.2 * -8, 0, 0, 0, 0, 0.2 * 7, 0];
        for (int i = 0; i < m.Length; i++) Assert.Equal(expected[i], m[i], 12);
        Assert.Equal([1, 6], v.Select((x, i) => (x, i)).Where(e => e.x != 0).Select(e => e.i));
        Assert.Equal(1, state.state[0].step);
    }

    [Fact]
    public void ReLoRAIsOneHeadReDrawnAtMergesWithItsStatePrunedAndContradictionsAreRefused()
    {
        LteOptions relora = LteOptions.ReLoRA(rank: 8, mergeEvery: 100);
        Assert.Equal((1, 8, 100, true, 0.99), (relora.Heads, relora.Rank, relora.MergeEvery, relora.ReinitializeA, relora.PruneOptimizer));
        Assert.Throws<ArgumentException>(() => (relora with { ResetOptimizer = true }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (relora with { PruneOptimizer = 1.5 }).Validate());

        // In training, a merge leaves 1% of the LoRA factors' moments; the replicas (biases, the left-out head) keep
        // theirs, as ReLoRA prunes only its LoRA parameters' state.
        using var scope = NewDisposeScope();
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), relora with { Rank = 2, MergeEvery = 2, Exclude = new[] { "head" } });
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.01 }));
        var trainer = new LteTrainer(lte, adamW, Mse);
        for (int step = 0; step < 2; step++) trainer.Step(Batch(step, 4).x, Batch(step, 4).y);
        int factors = adamW.param_groups[0].@params.Count;  // ParameterGroups: the factors first, then the replicas
        using OptimizerStateDict state = adamW.state_dict();
        Assert.Contains(state.state.Keys, k => k >= factors);
        foreach ((int index, ParameterState s) in state.state)
            foreach (Tensor moment in s.tensors.Values.Where(t => t.numel() > 1))
            {
                int kept = moment.to(ScalarType.Float64).reshape(-1).ToArray<double>().Count(x => x != 0);
                if (index < factors) Assert.True(kept <= Math.Ceiling(0.01 * moment.numel()), $"factor: {moment.numel()} entries, {kept} kept");
                else Assert.True(kept > 0.5 * moment.numel(), $"replica: {moment.numel()} entries, only {kept} kept");
            }
    }
}
