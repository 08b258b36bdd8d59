using LowRankBias.Merging;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Merging;

public sealed class ModelSpaceTests
{
    private static Sequential Net(int seed) => new(Linear64(4, 3, seed), new Tanh(), Linear64(3, 2, seed + 10));

    [Fact]
    public void SumAverageAndInterpolationAreEntryWise()
    {
        using var scope = NewDisposeScope();
        Sequential a = Net(1), b = Net(2), into = Net(3);
        double[] Flat(Module m) => m.parameters().SelectMany(p => p.reshape(-1).ToArray<double>()).ToArray();
        double[] x = Flat(a), y = Flat(b);

        ModelSpace.Sum(into, a, b);
        Assert.Equal(x.Zip(y, (p, q) => p + q), Flat(into));
        ModelSpace.Average(into, a, b);
        Assert.Equal(x.Zip(y, (p, q) => 0.5 * p + 0.5 * q), Flat(into));
        ModelSpace.Interpolate(into, a, b, 0.25);
        Assert.Equal(x.Zip(y, (p, q) => 0.75 * p + 0.25 * q), Flat(into));
    }

    [Fact]
    public void TheBarrierIsZeroBetweenEqualModelsAndNotPositiveForAConvexLoss()
    {
        using var scope = NewDisposeScope();
        // A linear model under squared error is convex in its weights: the loss along the line lies under the chord.
        Tensor inputs = TestData.Randn(1, 20, 4), targets = TestData.Randn(2, 20, 2);
        Linear a = Linear64(4, 2, 5), b = Linear64(4, 2, 7), into = Linear64(4, 2, 9);
        double Loss(Module m) { using var s = NewDisposeScope(); return nn.functional.mse_loss(m.call(inputs), targets).item<double>(); }

        InterpolationBarrier convex = ModelSpace.Barrier(into, a, b, Loss);
        Assert.Equal(11, convex.Losses.Length);
        Assert.True(convex.Barrier <= 1e-12, $"barrier {convex.Barrier}");
        Assert.True(convex.Losses[5] < 0.5 * (convex.Losses[0] + convex.Losses[10]) - 1e-6, "strictly convex: the midpoint lies below the chord");
        Assert.Equal(0, ModelSpace.Barrier(into, a, a, Loss).Barrier, 12);

        // A non-convex loss has a barrier: L(θ) = −‖θ − mid‖² peaks at the midpoint of the line.
        InterpolationBarrier bump = ModelSpace.Barrier(into, a, b, m => -Distance(m, a, b), points: 3);
        Assert.True(bump.Barrier > 0);
    }

    [Fact]
    public void RecomputedBatchNormStatisticsAreTheMeansOverTheBatches()
    {
        using var scope = NewDisposeScope();
        var norm = new BatchNorm2d(3, dtype: ScalarType.Float64);
        var model = new Sequential(norm);
        model.eval();
        Tensor[] batches = [TestData.Randn(11, 4, 3, 2, 2), TestData.Randn(12, 4, 3, 2, 2) * 3 + 1];
        ModelSpace.RecomputeBatchNorm(model, batches);

        // Hand computation: per channel, the mean over batches of the batch mean and of the unbiased batch variance.
        for (int c = 0; c < 3; c++)
        {
            double[][] values = batches.Select(x => x.select(1, c).reshape(-1).ToArray<double>()).ToArray();
            double mean = values.Average(v => v.Average());
            double variance = values.Average(v => v.Sum(e => (e - v.Average()) * (e - v.Average())) / (v.Length - 1));
            Assert.Equal(mean, norm.running_mean!.ToArray<double>()[c], 12);
            Assert.Equal(variance, norm.running_var!.ToArray<double>()[c], 12);
        }
        Assert.False(model.training);
        Assert.Throws<ArgumentException>(() => ModelSpace.RecomputeBatchNorm(model, []));
    }

    [Fact]
    public void ModelsOfDifferentArchitecturesAreRefused()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => ModelSpace.Sum(Net(1), Net(2), new Sequential(Linear64(4, 3, 1), new Tanh(), Linear64(3, 3, 2))));
        Assert.Contains("2.weight", e.Message);
    }

    private static double Distance(Module m, Module a, Module b)
    {
        double total = 0;
        foreach (((Tensor p, Tensor x), Tensor y) in m.parameters().Zip(a.parameters()).Zip(b.parameters()))
        {
            double[] pv = p.reshape(-1).ToArray<double>(), xv = x.reshape(-1).ToArray<double>(), yv = y.reshape(-1).ToArray<double>();
            for (int i = 0; i < pv.Length; i++) total += Math.Pow(pv[i] - 0.5 * (xv[i] + yv[i]), 2);
        }
        return total;
    }
}
