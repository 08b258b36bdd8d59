using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Modules.Layers;

/// <summary>FrozenBatchNorm2d against the closed form (x − μ)/√(σ² + ε)·γ + β computed in float64 by hand, in both
/// modes, with its gradient γ/√(σ² + ε) and nothing trained or updated.</summary>
public sealed class FrozenBatchNorm2dTests
{
    private static BatchNorm2d TrainedNorm()
    {
        var bn = new BatchNorm2d(3, eps: 1e-3, dtype: ScalarType.Float64);
        using (no_grad())
        {
            bn.weight!.copy_(tensor(new[] { 1.5, -0.5, 2.0 }));
            bn.bias!.copy_(tensor(new[] { 0.1, 0.2, -0.3 }));
            bn.running_mean!.copy_(tensor(new[] { 0.5, -1.0, 2.0 }));
            bn.running_var!.copy_(tensor(new[] { 4.0, 0.25, 1.0 }));
            bn.num_batches_tracked!.fill_(7);
        }
        return bn;
    }

    [Fact]
    public void NormalisesWithTheStoredStatisticsInEitherModeAndTrainsNothing()
    {
        using var scope = NewDisposeScope();
        using BatchNorm2d source = TrainedNorm();
        using var frozen = new FrozenBatchNorm2d(source);
        Assert.Empty(frozen.parameters());
        Assert.Equal(source.state_dict().Keys, frozen.state_dict().Keys);

        double[] gamma = [1.5, -0.5, 2.0], beta = [0.1, 0.2, -0.3], mean = [0.5, -1.0, 2.0], variance = [4.0, 0.25, 1.0];
        Tensor x = TestData.Randn(11, 2, 3, 2, 2).requires_grad_();
        double[] input = x.detach().ToArray<double>();
        var expected = new double[input.Length];
        var slope = new double[input.Length];
        for (int i = 0; i < input.Length; i++)
        {
            int c = i / 4 % 3;
            slope[i] = gamma[c] / Math.Sqrt(variance[c] + 1e-3);
            expected[i] = (input[i] - mean[c]) * slope[i] + beta[c];
        }
        foreach (bool training in new[] { true, false })
        {
            frozen.train(training);
            Tensor y = frozen.call(x);
            TestData.AssertClose(expected, y, 1e-12);
            x.grad = null;
            y.sum().backward();
            TestData.AssertClose(slope, x.grad!, 1e-12);
        }
        TestData.AssertClose(mean, frozen.running_mean, 0);
        Assert.Equal(7, frozen.num_batches_tracked.item<long>());
    }

    [Fact]
    public void ConversionChecksEveryLayerBeforeReplacingAny()
    {
        using var scope = NewDisposeScope();
        using var model = new Sequential(TrainedNorm(), new BatchNorm2d(3, track_running_stats: false));
        var e = Assert.Throws<ArgumentException>(() => FrozenBatchNorm2d.convert_frozen_batchnorm(model));
        Assert.Contains("'1' keeps no running statistics", e.Message);
        Assert.IsType<BatchNorm2d>(model[0]);

        using var resnet = new ResNet(new ResNet.Config { width = 2, layers = [1, 1, 1, 1] });
        int normCount = resnet.modules().Count(m => m is BatchNorm2d);
        Assert.Equal(normCount, FrozenBatchNorm2d.convert_frozen_batchnorm(resnet));
        Assert.DoesNotContain(resnet.modules(), m => m is BatchNorm2d);
        using BatchNorm2d single = TrainedNorm();
        Assert.Throws<ArgumentException>(() => FrozenBatchNorm2d.convert_frozen_batchnorm(single));
    }
}
