using static LowRankBias.Torch.Tests.TestData;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests;

/// <summary>scaled_dot_product_attention against softmax(Q·Kᵀ/√d + mask)·V computed with loops.</summary>
public class FunctionalAttentionTests
{
    private const double Tol = 1e-12;

    /// <summary>Attention weights of one batch entry: L×S, with allowed(i, j) false → weight 0, bias(i, j) added to the score.</summary>
    private static double[,] NaiveWeights(double[] q, double[] k, int l, int s, int d, Func<int, int, bool> allowed, Func<int, int, double> bias)
    {
        var weights = new double[l, s];
        for (int i = 0; i < l; i++)
        {
            var scores = new double[s];
            for (int j = 0; j < s; j++)
            {
                double dot = 0;
                for (int c = 0; c < d; c++) dot += q[i * d + c] * k[j * d + c];
                scores[j] = allowed(i, j) ? dot / Math.Sqrt(d) + bias(i, j) : double.NegativeInfinity;
            }
            double max = scores.Max(), total = scores.Sum(x => Math.Exp(x - max));
            for (int j = 0; j < s; j++) weights[i, j] = Math.Exp(scores[j] - max) / total;
        }
        return weights;
    }

    private static double[] NaiveAttention(Tensor q, Tensor k, Tensor v, Func<int, int, bool> allowed, Func<int, int, double> bias)
    {
        int batch = (int)q.size(0), l = (int)q.size(1), s = (int)k.size(1), d = (int)q.size(2), dv = (int)v.size(2);
        double[] qs = q.ToArray<double>(), ks = k.ToArray<double>(), vs = v.ToArray<double>();
        var result = new List<double>();
        for (int b = 0; b < batch; b++)
        {
            double[,] w = NaiveWeights(qs[(b * l * d)..((b + 1) * l * d)], ks[(b * s * d)..((b + 1) * s * d)], l, s, d, allowed, bias);
            for (int i = 0; i < l; i++)
                for (int c = 0; c < dv; c++)
                {
                    double sum = 0;
                    for (int j = 0; j < s; j++) sum += w[i, j] * vs[(b * s + j) * dv + c];
                    result.Add(sum);
                }
        }
        return result.ToArray();
    }

    [Fact]
    public void UnmaskedAttentionMatchesTheFormula()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor q = Randn(1, 2, 3, 4), k = Randn(2, 2, 5, 4), v = Randn(3, 2, 5, 3);
        AssertClose(NaiveAttention(q, k, v, (_, _) => true, (_, _) => 0), F.scaled_dot_product_attention(q, k, v), Tol);
    }

    [Fact]
    public void BoolMaskMarksTheKeysThatMayBeAttended()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor q = Randn(4, 2, 3, 2), k = Randn(5, 2, 4, 2), v = Randn(6, 2, 4, 2);
        bool[] allowed = [true, false, true, true, false, true, true, false, true, true, true, true];
        Tensor mask = tensor(allowed, [3, 4]);
        AssertClose(NaiveAttention(q, k, v, (i, j) => allowed[i * 4 + j], (_, _) => 0), F.scaled_dot_product_attention(q, k, v, mask), Tol);
    }

    [Fact]
    public void FloatMaskIsAddedToTheScores()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor q = Randn(7, 1, 3, 2), k = Randn(8, 1, 3, 2), v = Randn(9, 1, 3, 2), bias = Randn(10, 3, 3);
        double[] b = bias.ToArray<double>();
        AssertClose(NaiveAttention(q, k, v, (_, _) => true, (i, j) => b[i * 3 + j]), F.scaled_dot_product_attention(q, k, v, bias), Tol);
    }

    [Fact]
    public void CausalAttentionSeesOnlyEarlierAndCurrentPositions()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor q = Randn(11, 2, 4, 3), k = Randn(12, 2, 4, 3), v = Randn(13, 2, 4, 2);
        AssertClose(NaiveAttention(q, k, v, (i, j) => j <= i, (_, _) => 0), F.scaled_dot_product_attention(q, k, v, is_causal: true), Tol);
    }

    [Fact]
    public void DropoutZeroesOrRescalesAttentionWeights()
    {
        using DisposeScope scope = NewDisposeScope();
        const double p = 0.5;
        Tensor q = Randn(14, 1, 8, 2), k = Randn(15, 1, 8, 2);
        // With V = I the output rows are the attention weights themselves.
        Tensor v = eye(8, dtype: ScalarType.Float64).unsqueeze(0);
        double[] expected = NaiveAttention(q, k, v, (_, _) => true, (_, _) => 0);
        double[] actual = F.scaled_dot_product_attention(q, k, v, dropout_p: p).ToArray<double>();
        for (int i = 0; i < expected.Length; i++)
            if (actual[i] != 0) Assert.Equal(expected[i] / (1 - p), actual[i], 12);
        Assert.Contains(actual, a => a == 0);
        Assert.Contains(actual, a => a != 0);
    }
}
