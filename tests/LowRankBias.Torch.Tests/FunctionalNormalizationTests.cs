using static LowRankBias.Torch.Tests.TestData;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests;

/// <summary>layer_norm, batch_norm and group_norm against the normalisation formula written out by hand.</summary>
public class FunctionalNormalizationTests
{
    private const double Tol = 1e-12;

    private static (double mean, double biasedVar) Moments(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        return (mean, values.Sum(v => (v - mean) * (v - mean)) / values.Count);
    }

    [Fact]
    public void LayerNormNormalisesEachSampleOverTheTrailingDimensions()
    {
        using DisposeScope scope = NewDisposeScope();
        const double eps = 1e-3;
        Tensor x = Randn(1, 2, 3, 4), w = Randn(2, 3, 4), b = Randn(3, 3, 4);
        double[] xs = x.ToArray<double>(), ws = w.ToArray<double>(), bs = b.ToArray<double>();
        var expected = new double[24];
        for (int n = 0; n < 2; n++)
        {
            var (mean, variance) = Moments(xs.Skip(12 * n).Take(12).ToArray());
            for (int k = 0; k < 12; k++)
                expected[12 * n + k] = (xs[12 * n + k] - mean) / Math.Sqrt(variance + eps) * ws[k] + bs[k];
        }
        AssertClose(expected, F.layer_norm(x, [3, 4], w, b, eps), Tol);
    }

    [Fact]
    public void BatchNormTrainingUsesBatchStatisticsAndUpdatesRunningOnes()
    {
        using DisposeScope scope = NewDisposeScope();
        const double momentum = 0.2, eps = 1e-5;
        Tensor x = Randn(4, 4, 3, 2), w = Randn(5, 3), b = Randn(6, 3);
        Tensor runningMean = Randn(7, 3), runningVar = Uniform(8, 0.5, 2, 3);
        double[] rm0 = runningMean.ToArray<double>(), rv0 = runningVar.ToArray<double>();

        Tensor y = F.batch_norm(x, runningMean, runningVar, w, b, training: true, momentum: momentum, eps: eps);

        double[] xs = x.ToArray<double>(), ws = w.ToArray<double>(), bs = b.ToArray<double>();
        var expected = new double[24];
        for (int c = 0; c < 3; c++)
        {
            int[] at = Enumerable.Range(0, 4).SelectMany(n => new[] { n * 6 + c * 2, n * 6 + c * 2 + 1 }).ToArray();
            var (mean, variance) = Moments(at.Select(i => xs[i]).ToArray());
            foreach (int i in at) expected[i] = (xs[i] - mean) / Math.Sqrt(variance + eps) * ws[c] + bs[c];
            // The running variance tracks the unbiased estimate (8 samples per channel).
            Assert.Equal((1 - momentum) * rm0[c] + momentum * mean, runningMean.ToArray<double>()[c], 12);
            Assert.Equal((1 - momentum) * rv0[c] + momentum * variance * 8 / 7, runningVar.ToArray<double>()[c], 12);
        }
        AssertClose(expected, y, Tol);
    }

    [Fact]
    public void BatchNormEvaluationUsesRunningStatisticsAndLeavesThemAlone()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(9, 3, 2), w = Randn(10, 2), b = Randn(11, 2);
        Tensor runningMean = Randn(12, 2), runningVar = Uniform(13, 0.5, 2, 2);
        double[] rm = runningMean.ToArray<double>(), rv = runningVar.ToArray<double>();
        Tensor y = F.batch_norm(x, runningMean, runningVar, w, b, eps: 0.01);
        double[] xs = x.ToArray<double>(), ws = w.ToArray<double>(), bs = b.ToArray<double>();
        double[] expected = xs.Select((v, i) => (v - rm[i % 2]) / Math.Sqrt(rv[i % 2] + 0.01) * ws[i % 2] + bs[i % 2]).ToArray();
        AssertClose(expected, y, Tol);
        Assert.Equal(rm, runningMean.ToArray<double>());
        Assert.Equal(rv, runningVar.ToArray<double>());
    }

    [Fact]
    public void GroupNormNormalisesChannelGroupsPerSample()
    {
        using DisposeScope scope = NewDisposeScope();
        const double eps = 1e-4;
        Tensor x = Randn(14, 2, 6, 2), w = Randn(15, 6), b = Randn(16, 6);
        double[] xs = x.ToArray<double>(), ws = w.ToArray<double>(), bs = b.ToArray<double>();
        var expected = new double[24];
        // 3 groups of 2 channels × 2 positions = 4 consecutive values per (sample, group).
        for (int start = 0; start < 24; start += 4)
        {
            var (mean, variance) = Moments(xs.Skip(start).Take(4).ToArray());
            for (int i = start; i < start + 4; i++)
            {
                int channel = i / 2 % 6;
                expected[i] = (xs[i] - mean) / Math.Sqrt(variance + eps) * ws[channel] + bs[channel];
            }
        }
        AssertClose(expected, F.group_norm(x, 3, w, b, eps), Tol);
    }
}
