using static LowRankBias.Torch.Tests.TestData;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests;

/// <summary>softmax, log_softmax and the losses against their formulas written out by hand in float64.</summary>
public class FunctionalLossTests
{
    private const double Tol = 1e-12;

    private static double[][] Rows(Tensor t)
    {
        long cols = t.size(-1);
        return t.ToArray<double>().Chunk((int)cols).ToArray();
    }

    private static double[] LogSoftmax(double[] row)
    {
        double max = row.Max();
        double logSum = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
        return row.Select(v => v - logSum).ToArray();
    }

    [Fact]
    public void SoftmaxAndLogSoftmaxMatchTheDefinition()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(1, 3, 4) * 10;
        double[] expectedLog = Rows(x).SelectMany(LogSoftmax).ToArray();
        AssertClose(expectedLog, F.log_softmax(x, 1), Tol);
        AssertClose(expectedLog.Select(Math.Exp).ToArray(), F.softmax(x, -1), Tol);
        // Along dimension 0 of the transpose is the same computation.
        AssertClose(expectedLog.Select(Math.Exp).ToArray(), F.softmax(x.mT, 0).mT, Tol);
        // A float32 input can be computed in float64.
        Assert.Equal(ScalarType.Float64, F.softmax(x.@float(), 1, ScalarType.Float64).dtype);
    }

    [Theory]
    [InlineData("mean")]
    [InlineData("sum")]
    [InlineData("none")]
    public void CrossEntropyWithClassIndicesWeightsIgnoreAndSmoothing(string reduction)
    {
        using DisposeScope scope = NewDisposeScope();
        const double eps = 0.2;
        const int classes = 5;
        Tensor x = Randn(2, 4, classes), w = Uniform(3, 0.5, 1.5, classes);
        long[] y = [2, -100, 1, 4];
        double[] ws = w.ToArray<double>();
        var losses = new double[4];
        double denominator = 0;
        double[][] rows = Rows(x);
        for (int n = 0; n < 4; n++)
        {
            if (y[n] == -100) continue;
            double[] lp = LogSoftmax(rows[n]);
            // (1 − ε)·(−w_y·log p_y) + ε/C·Σ_c(−w_c·log p_c)
            losses[n] = (1 - eps) * -ws[y[n]] * lp[y[n]] + eps / classes * -Enumerable.Range(0, classes).Sum(c => ws[c] * lp[c]);
            denominator += ws[y[n]];
        }
        double[] expected = reduction switch
        {
            "mean" => [losses.Sum() / denominator],
            "sum" => [losses.Sum()],
            _ => losses,
        };
        AssertClose(expected, F.cross_entropy(x, tensor(y), w, reduction: reduction, label_smoothing: eps), Tol);
    }

    [Fact]
    public void CrossEntropyWithProbabilityTargetsAndSmoothing()
    {
        using DisposeScope scope = NewDisposeScope();
        const double eps = 0.1;
        Tensor x = Randn(4, 3, 4), target = Randn(5, 3, 4).softmax(1), w = Uniform(6, 0.5, 1.5, 4);
        double[][] rows = Rows(x), targets = Rows(target);
        double[] ws = w.ToArray<double>();
        double[] losses = Enumerable.Range(0, 3).Select(n =>
        {
            double[] lp = LogSoftmax(rows[n]);
            return -Enumerable.Range(0, 4).Sum(c => ws[c] * ((1 - eps) * targets[n][c] + eps / 4) * lp[c]);
        }).ToArray();
        // With probability targets 'mean' divides by the batch size, whatever the weights.
        Assert.Equal(losses.Average(), F.cross_entropy(x, target, w, label_smoothing: eps).item<double>(), 12);
        AssertClose(losses, F.cross_entropy(x, target, w, reduction: "none", label_smoothing: eps), Tol);
    }

    [Fact]
    public void CrossEntropyOverSpatialDimensionsAndNllLoss()
    {
        using DisposeScope scope = NewDisposeScope();
        // N=1, C=3, d=2: class scores of position j are x[0, :, j].
        Tensor x = Randn(7, 1, 3, 2);
        long[] y = [2, 0];
        double[][] columns = Rows(x.permute(0, 2, 1));
        double[] expected = [-LogSoftmax(columns[0])[2], -LogSoftmax(columns[1])[0]];
        AssertClose(expected, F.cross_entropy(x, tensor(y, [1, 2]), reduction: "none"), Tol);
        AssertClose(expected, F.nll_loss(x.log_softmax(1), tensor(y, [1, 2]), reduction: "none"), Tol);

        Tensor lp = Randn(8, 3, 4).log_softmax(1), w = Uniform(9, 0.5, 1.5, 4);
        double[][] lps = Rows(lp);
        double[] ws = w.ToArray<double>();
        long[] classes = [3, 0, 3];
        double weighted = Enumerable.Range(0, 3).Sum(n => -ws[classes[n]] * lps[n][classes[n]]);
        double weightSum = classes.Sum(c => ws[c]);
        Assert.Equal(weighted / weightSum, F.nll_loss(lp, tensor(classes), w).item<double>(), 12);
        // Ignoring class 3 leaves only sample 1.
        Assert.Equal(-lps[1][0], F.nll_loss(lp, tensor(classes), ignore_index: 3, reduction: "sum").item<double>(), 12);
    }

    [Fact]
    public void MseLossIsTheMeanSquaredDifference()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(10, 2, 3), y = Randn(11, 2, 3);
        double[] sq = x.ToArray<double>().Zip(y.ToArray<double>(), (a, b) => (a - b) * (a - b)).ToArray();
        Assert.Equal(sq.Average(), F.mse_loss(x, y).item<double>(), 12);
        Assert.Equal(sq.Sum(), F.mse_loss(x, y, "sum").item<double>(), 12);
        AssertClose(sq, F.mse_loss(x, y, "none"), Tol);
    }

    [Fact]
    public void BinaryCrossEntropyWithLogitsWeightsAndPositiveWeights()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(12, 2, 3) * 3, t = Uniform(13, 0, 1, 2, 3), w = Uniform(14, 0.5, 2, 2, 3), pw = Uniform(15, 0.5, 3, 3);
        double[] xs = x.ToArray<double>(), ts = t.ToArray<double>(), ws = w.ToArray<double>(), pws = pw.ToArray<double>();
        double[] losses = xs.Select((v, i) =>
        {
            double logSig = -Math.Log(1 + Math.Exp(-v)), logOneMinus = -Math.Log(1 + Math.Exp(v));
            return -ws[i] * (pws[i % 3] * ts[i] * logSig + (1 - ts[i]) * logOneMinus);
        }).ToArray();
        AssertClose(losses, F.binary_cross_entropy_with_logits(x, t, w, "none", pw), Tol);
        Assert.Equal(losses.Average(), F.binary_cross_entropy_with_logits(x, t, w, pos_weight: pw).item<double>(), 12);
        double plain = xs.Select((v, i) => -(ts[i] * -Math.Log(1 + Math.Exp(-v)) + (1 - ts[i]) * -Math.Log(1 + Math.Exp(v)))).Sum();
        Assert.Equal(plain, F.binary_cross_entropy_with_logits(x, t, reduction: "sum").item<double>(), 12);
    }
}
