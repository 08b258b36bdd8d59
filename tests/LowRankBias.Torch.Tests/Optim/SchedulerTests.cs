using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Tests.Optim;

public class SchedulerTests
{
    private static double[] Rates(LRScheduler scheduler, int epochs)
    {
        var rates = new List<double> { scheduler.get_last_lr()[0] };
        for (int e = 1; e < epochs; e++)
        {
            scheduler.step();
            rates.Add(scheduler.get_last_lr()[0]);
            Assert.Equal(rates[^1], scheduler.optimizer.param_groups[0].lr);
        }
        return rates.ToArray();
    }

    private static void AssertRates(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-12);
    }

    private static SGD Optimizer(double lr, Tensor p) => new([p], lr);

    [Fact]
    public void StepLRHalvesEveryThreeEpochs()
    {
        using var scope = NewDisposeScope();
        using var opt = Optimizer(0.8, zeros([1], requires_grad: true));
        AssertRates([0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2], Rates(new StepLR(opt, step_size: 3, gamma: 0.5), 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepLR(opt, step_size: 0));
    }

    [Fact]
    public void MultiStepLRCountsReachedMilestones()
    {
        using var scope = NewDisposeScope();
        using var opt = Optimizer(1, zeros([1], requires_grad: true));
        AssertRates([1, 1, 0.1, 0.1, 0.1, 0.001, 0.001], Rates(new MultiStepLR(opt, [5, 2, 5], gamma: 0.1), 7));
    }

    [Fact]
    public void ConstantLRScalesUntilTotalIters()
    {
        using var scope = NewDisposeScope();
        using var opt = Optimizer(0.4, zeros([1], requires_grad: true));
        AssertRates([0.1, 0.1, 0.1, 0.4, 0.4], Rates(new ConstantLR(opt, factor: 0.25, total_iters: 3), 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantLR(opt, factor: 2));
    }

    [Fact]
    public void LambdaLRScalesTheBaseRateByTheLambda()
    {
        using var scope = NewDisposeScope();
        using var opt = Optimizer(0.5, zeros([1], requires_grad: true));
        // A two-epoch warm-up followed by a ×0.1 step at epoch 4: the closed form written out by hand.
        AssertRates([0.25, 0.5, 0.5, 0.5, 0.05, 0.05],
            Rates(new LambdaLR(opt, e => Math.Min(1.0, (e + 1) / 2.0) * (e >= 4 ? 0.1 : 1)), 6));
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => new LambdaLR(opt, _ => -1));
        Assert.Equal("lr_lambda", negative.ParamName);
        Assert.Contains("lr_lambda(0)", negative.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LambdaLR(opt, _ => double.NaN));
    }

    [Fact]
    public void WarmupCosineRisesLinearlyThenFollowsHalfACosine()
    {
        using var scope = NewDisposeScope();
        using var opt = Optimizer(1, zeros([1], requires_grad: true));
        // Warm-up over 4 epochs, cosine over epochs 4…8: (1 + cos(π·k/4))/2 for k = 0…4, then η_min.
        AssertRates([0.25, 0.5, 0.75, 1, 1, 0.8535533905932737, 0.5, 0.14644660940672624, 0, 0],
            Rates(new WarmupCosineLR(opt, warmup_steps: 4, total_steps: 8), 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WarmupCosineLR(opt, 4, 4));
    }

    [Fact]
    public void JaggedCosineReWarmsAfterEveryRestart()
    {
        using var scope = NewDisposeScope();
        using var opt = Optimizer(1, zeros([1], requires_grad: true));
        // Warm-up 2, cosine over epochs 2…10 (c(k) = (1 + cos(πk/8))/2), restarts every 4 epochs re-warmed over 2.
        double C(int k) => (1 + Math.Cos(Math.PI * k / 8)) / 2;
        AssertRates([0.5, 1, C(0), C(1), 0.5 * C(2), C(3), C(4), C(5), 0.5 * C(6), C(7), 0],
            Rates(new JaggedCosineLR(opt, warmup_steps: 2, total_steps: 10, restart_every: 4, restart_warmup_steps: 2), 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JaggedCosineLR(opt, 2, 10, restart_every: 2, restart_warmup_steps: 3));
    }

    [Fact]
    public void EachGroupIsScaledFromItsOwnBaseRate()
    {
        using var scope = NewDisposeScope();
        using var opt = new SGD([
            new ParamGroup([zeros([1], requires_grad: true)], new SGDOptions { lr = 1 }),
            new ParamGroup([zeros([1], requires_grad: true)], new SGDOptions { lr = 0.1 }),
        ]);
        var scheduler = new WarmupCosineLR(opt, warmup_steps: 2, total_steps: 4, eta_min: 0.01);
        AssertRates([0.5, 0.05], scheduler.get_last_lr());
        scheduler.step();
        scheduler.step();
        scheduler.step();
        AssertRates([0.01 + 0.99 * 0.5, 0.01 + 0.09 * 0.5], scheduler.get_last_lr());
    }

    [Fact]
    public void StateRoundTripResumesTheSchedule()
    {
        using var scope = NewDisposeScope();
        using var first = Optimizer(1, zeros([1], requires_grad: true));
        var original = new StepLR(first, step_size: 2, gamma: 0.5);
        for (int i = 0; i < 3; i++) original.step();
        SchedulerState saved = original.state_dict();

        using var second = Optimizer(123, zeros([1], requires_grad: true));
        var resumed = new StepLR(second, step_size: 2, gamma: 0.5);
        resumed.load_state_dict(saved);
        Assert.Equal(3, resumed.last_epoch);
        Assert.Equal(original.get_last_lr(), resumed.get_last_lr());
        Assert.Equal(0.5, second.param_groups[0].lr);
        original.step();
        resumed.step();
        Assert.Equal(0.25, resumed.get_last_lr()[0]);
        Assert.Equal(original.get_last_lr(), resumed.get_last_lr());
    }
}
