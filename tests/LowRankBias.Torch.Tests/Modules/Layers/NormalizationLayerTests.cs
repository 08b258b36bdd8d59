using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Modules.Layers;

/// <summary>LayerNorm, BatchNorm2d and GroupNorm modules against the normalisation formula written out by hand.</summary>
public class NormalizationLayerTests
{
    private const double Tol = 1e-12;

    private static (double mean, double biasedVar) Moments(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        return (mean, values.Sum(v => (v - mean) * (v - mean)) / values.Count);
    }

    private static void Fill(Tensor parameter, Tensor values)
    {
        using var _ = no_grad();
        parameter.copy_(values);
    }

    // Indices of channel c's elements in a row-major N×C×H×W array.
    private static int[] ChannelIndices(int n, int channels, int spatial, int c) =>
        Enumerable.Range(0, n).SelectMany(b => Enumerable.Range((b * channels + c) * spatial, spatial)).ToArray();

    [Fact]
    public void LayerNormNormalisesTheTrailingDimensionsAndStartsAsAPureNormalisation()
    {
        using var scope = NewDisposeScope();
        using var ln = new LayerNorm([2, 3], eps: 1e-3, dtype: ScalarType.Float64);
        Assert.Equal(new double[] { 1, 1, 1, 1, 1, 1 }, ln.weight!.ToArray<double>());
        Assert.Equal(new double[6], ln.bias!.ToArray<double>());
        Fill(ln.weight, Randn(2, 2, 3));
        Fill(ln.bias, Randn(3, 2, 3));
        Tensor x = Randn(1, 4, 2, 3);
        double[] xs = x.ToArray<double>(), w = ln.weight.ToArray<double>(), b = ln.bias.ToArray<double>();
        var expected = new double[xs.Length];
        for (int s = 0; s < 4; s++)
        {
            var (mean, variance) = Moments(xs[(6 * s)..(6 * s + 6)]);
            for (int k = 0; k < 6; k++) expected[6 * s + k] = (xs[6 * s + k] - mean) / Math.Sqrt(variance + 1e-3) * w[k] + b[k];
        }
        AssertClose(expected, ln.call(x), Tol);
    }

    [Fact]
    public void LayerNormOptionsRemoveParametersAndWrongShapesAreRejected()
    {
        using var scope = NewDisposeScope();
        using var noBias = new LayerNorm(4, bias: false);
        using var plain = new LayerNorm(4, elementwise_affine: false);
        Assert.Equal(new[] { "weight" }, noBias.named_parameters().Select(p => p.name));
        Assert.Empty(plain.parameters());
        var error = Assert.Throws<ArgumentException>(() => noBias.call(zeros([2, 5])));
        Assert.Contains("ending in [4]", error.Message);
    }

    [Fact]
    public void BatchNormTrainsOnBatchStatisticsAndTracksRunningOnesWithMomentum()
    {
        using var scope = NewDisposeScope();
        using var bn = new BatchNorm2d(2, momentum: 0.25, dtype: ScalarType.Float64);
        Fill(bn.weight!, Randn(4, 2));
        Fill(bn.bias!, Randn(5, 2));
        Tensor x = Randn(6, 3, 2, 2, 2);
        double[] xs = x.ToArray<double>(), w = bn.weight!.ToArray<double>(), b = bn.bias!.ToArray<double>();

        Tensor y = bn.call(x);

        var expected = new double[xs.Length];
        for (int c = 0; c < 2; c++)
        {
            int[] at = ChannelIndices(3, 2, 4, c);
            var (mean, variance) = Moments(at.Select(i => xs[i]).ToArray());
            foreach (int i in at) expected[i] = (xs[i] - mean) / Math.Sqrt(variance + 1e-5) * w[c] + b[c];
            Assert.Equal(0.25 * mean, bn.running_mean!.ToArray<double>()[c], 14);
            Assert.Equal(0.75 * 1 + 0.25 * variance * 12 / 11, bn.running_var!.ToArray<double>()[c], 14);
        }
        AssertClose(expected, y, Tol);
        Assert.Equal(1L, bn.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void BatchNormEvaluationUsesTheRunningStatisticsAndLeavesThemAlone()
    {
        using var scope = NewDisposeScope();
        using var bn = new BatchNorm2d(2, eps: 1e-3, dtype: ScalarType.Float64);
        bn.call(Randn(7, 4, 2, 3, 3));
        double[] rm = bn.running_mean!.ToArray<double>(), rv = bn.running_var!.ToArray<double>();
        bn.eval();
        Tensor x = Randn(8, 2, 2, 1, 3);
        double[] xs = x.ToArray<double>();
        var expected = new double[xs.Length];
        for (int c = 0; c < 2; c++)
            foreach (int i in ChannelIndices(2, 2, 3, c)) expected[i] = (xs[i] - rm[c]) / Math.Sqrt(rv[c] + 1e-3);
        AssertClose(expected, bn.call(x), Tol);
        Assert.Equal(rm, bn.running_mean.ToArray<double>());
        Assert.Equal(rv, bn.running_var.ToArray<double>());
        Assert.Equal(1L, bn.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void BatchNormWithoutMomentumKeepsACumulativeAverage()
    {
        using var scope = NewDisposeScope();
        using var bn = new BatchNorm2d(1, momentum: null, dtype: ScalarType.Float64);
        Tensor first = Randn(9, 2, 1, 2, 2), second = Randn(10, 3, 1, 1, 2);
        bn.call(first);
        bn.call(second);
        var (m1, v1) = Moments(first.ToArray<double>());
        var (m2, v2) = Moments(second.ToArray<double>());
        Assert.Equal((m1 + m2) / 2, bn.running_mean!.item<double>(), 14);
        Assert.Equal((v1 * 8 / 7 + v2 * 6 / 5) / 2, bn.running_var!.item<double>(), 14);
        Assert.Equal(2L, bn.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void BatchNormBuffersAreStateAndUntrackedStatisticsMeanBatchStatisticsInEval()
    {
        using var scope = NewDisposeScope();
        using var bn = new BatchNorm2d(3);
        Assert.Equal(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }, bn.state_dict().Keys);
        Assert.Equal(ScalarType.Int64, bn.num_batches_tracked!.dtype);

        using var untracked = new BatchNorm2d(1, affine: false, track_running_stats: false, dtype: ScalarType.Float64);
        Assert.Empty(untracked.state_dict());
        untracked.eval();
        Tensor x = Randn(11, 2, 1, 2, 2);
        var (mean, variance) = Moments(x.ToArray<double>());
        AssertClose(x.ToArray<double>().Select(v => (v - mean) / Math.Sqrt(variance + 1e-5)).ToArray(), untracked.call(x), Tol);

        var error = Assert.Throws<ArgumentException>(() => bn.call(zeros([2, 4, 3, 3])));
        Assert.Contains("expects 3 channels, got 4", error.Message);
        Assert.Throws<ArgumentException>(() => bn.call(zeros([2, 3])));
    }

    [Fact]
    public void GroupNormNormalisesEachGroupOfEachSample()
    {
        using var scope = NewDisposeScope();
        using var gn = new GroupNorm(2, 4, dtype: ScalarType.Float64);
        Fill(gn.weight!, Randn(12, 4));
        Fill(gn.bias!, Randn(13, 4));
        Tensor x = Randn(14, 2, 4, 3);
        double[] xs = x.ToArray<double>(), w = gn.weight!.ToArray<double>(), b = gn.bias!.ToArray<double>();
        var expected = new double[xs.Length];
        for (int n = 0; n < 2; n++)
            for (int g = 0; g < 2; g++)
            {
                int start = (n * 4 + g * 2) * 3;
                var (mean, variance) = Moments(xs[start..(start + 6)]);
                for (int i = start; i < start + 6; i++) expected[i] = (xs[i] - mean) / Math.Sqrt(variance + 1e-5) * w[i / 3 % 4] + b[i / 3 % 4];
            }
        AssertClose(expected, gn.call(x), Tol);
        Assert.Throws<ArgumentException>(() => new GroupNorm(3, 4));
        Assert.Throws<ArgumentException>(() => gn.call(zeros([2, 3, 3])));
    }
}
