using MathNet.Numerics;
using static LowRankBias.Torch.Tests.TestData;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests;

/// <summary>Activations, linear, embedding, one_hot and dropout against their definitions.</summary>
public class FunctionalLayerTests
{
    private const double Tol = 1e-12;

    [Fact]
    public void ActivationsMatchTheirFormulas()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(1, 12) * 2;
        double[] xs = x.ToArray<double>();
        double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
        AssertClose(xs.Select(v => 0.5 * v * (1 + SpecialFunctions.Erf(v / Math.Sqrt(2)))).ToArray(), F.gelu(x), Tol);
        AssertClose(xs.Select(v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))).ToArray(), F.gelu(x, "tanh"), Tol);
        AssertClose(xs.Select(v => v * Sigmoid(v)).ToArray(), F.silu(x), Tol);
        AssertClose(xs.Select(Sigmoid).ToArray(), F.sigmoid(x), Tol);
        AssertClose(xs.Select(Math.Tanh).ToArray(), F.tanh(x), Tol);
        AssertClose(xs.Select(v => Math.Max(v, 0)).ToArray(), F.relu(x), 0);
    }

    [Fact]
    public void LinearIsInputTimesWeightTransposedPlusBias()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(2, 2, 3, 4), w = Randn(3, 5, 4), b = Randn(4, 5);
        var expected = (ToMatrix(x.reshape(6, 4)) * ToMatrix(w).Transpose()).ToRowArrays()
            .SelectMany(row => row.Zip(b.ToArray<double>(), (v, bias) => v + bias)).ToArray();
        Tensor y = F.linear(x, w, b);
        Assert.Equal([2L, 3, 5], y.shape);
        AssertClose(expected, y, Tol);
    }

    [Fact]
    public void EmbeddingLooksUpRowsAndOneHotMarksClasses()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor weight = Randn(5, 4, 3);
        double[] w = weight.ToArray<double>();
        long[] ids = [3, 0, 3, 1];
        Tensor rows = F.embedding(tensor(ids, [2, 2]), weight);
        Assert.Equal([2L, 2, 3], rows.shape);
        AssertClose(ids.SelectMany(i => w.Skip((int)i * 3).Take(3)).ToArray(), rows, 0);

        Tensor hot = F.one_hot(tensor(ids));
        Assert.Equal([4L, 4], hot.shape);
        Assert.Equal(ids.SelectMany(i => Enumerable.Range(0, 4).Select(c => c == i ? 1L : 0L)).ToArray(), hot.ToArray<long>());
        Assert.Equal([4L, 6], F.one_hot(tensor(ids), 6).shape);
    }

    [Fact]
    public void DropoutIsTheIdentityOutsideTrainingAndAtZero()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(6, 50);
        Assert.Equal(x.ToArray<double>(), F.dropout(x, 0.9, training: false).ToArray<double>());
        Assert.Equal(x.ToArray<double>(), F.dropout(x, 0.0).ToArray<double>());
        Assert.All(F.dropout(x, 1.0).ToArray<double>(), v => Assert.Equal(0.0, v));
    }
}
