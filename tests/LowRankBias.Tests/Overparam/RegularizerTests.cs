using LowRankBias.Overparam;
using LowRankBias.Tests.Spectral;
using LowRankBias.Torch.Tests;
using MathNet.Numerics.LinearAlgebra;
using GradCheck = LowRankBias.Torch.Tests.GradCheck;
using TestData = LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Tests.Overparam;

/// <summary>Creates layers, which draw from libtorch's global generator: runs alone so tests that watch the generator are not disturbed.</summary>
[Collection(SerialCollection.Name)]
public sealed class RegularizerTests
{
    private static double Value(Tensor t)
    {
        Assert.Equal(0, t.dim());
        return t.to(ScalarType.Float64).item<double>();
    }

    [Fact]
    public void Known_spectrum_gives_the_closed_forms()
    {
        using var scope = NewDisposeScope();
        Tensor w = TestMatrices.ToTensor(TestMatrices.WithSpectrum(6, 4, [3, 2, 1], seed: 5));
        Assert.Equal(6, Value(Regularizers.NuclearNorm([w])), 10);
        Assert.Equal(14.0 / 9, Value(Regularizers.StableRank([w])), 10);
        Assert.Equal(-(0.5 * Math.Log(0.5) + Math.Log(1.0 / 3) / 3 + Math.Log(1.0 / 6) / 6), Value(Regularizers.SpectralEntropy([w])), 10);
        Assert.Equal(14, Value(Regularizers.SquaredFrobenius([w])), 10);
        Assert.Equal(Math.Sqrt(14), Value(Regularizers.L2([w])), 10);
    }

    [Fact]
    public void Penalties_sum_over_weights_and_flatten_convolution_kernels()
    {
        using var scope = NewDisposeScope();
        Tensor a = TestData.Randn(1, 5, 3), conv = TestData.Randn(2, 4, 2, 3, 3);
        Matrix<double> ma = TestData.ToMatrix(a), mc = Matrix<double>.Build.DenseOfRowMajor(4, 18, conv.ToArray<double>());
        double[] sa = ma.Svd(false).S.ToArray(), sc = mc.Svd(false).S.ToArray();
        double Entropy(double[] s) => -s.Select(v => v / s.Sum()).Sum(p => p * Math.Log(p));
        double[] all = a.ToArray<double>().Concat(conv.ToArray<double>()).ToArray();

        Tensor[] ws = [a, conv];
        Assert.Equal(all.Sum(Math.Abs), Value(Regularizers.L1(ws)), 10);
        Assert.Equal(ma.FrobeniusNorm() + mc.FrobeniusNorm(), Value(Regularizers.L2(ws)), 10);
        Assert.Equal(all.Sum(v => v * v), Value(Regularizers.SquaredFrobenius(ws)), 10);
        Assert.Equal(sa.Sum() + sc.Sum(), Value(Regularizers.NuclearNorm(ws)), 10);
        Assert.Equal(Entropy(sa) + Entropy(sc), Value(Regularizers.SpectralEntropy(ws)), 10);
        Assert.Equal(sa.Sum(v => v * v) / (sa[0] * sa[0]) + sc.Sum(v => v * v) / (sc[0] * sc[0]), Value(Regularizers.StableRank(ws)), 10);
    }

    [Fact]
    public void Float32_weights_give_float32_penalties()
    {
        using var scope = NewDisposeScope();
        Tensor w = TestData.Randn(3, 4, 4).to(ScalarType.Float32);
        foreach (Regularizer kind in Enum.GetValues<Regularizer>())
            Assert.Equal(ScalarType.Float32, Regularizers.Compute(kind, [w]).dtype);
    }

    [Theory]
    [InlineData(Regularizer.L1)]
    [InlineData(Regularizer.L2)]
    [InlineData(Regularizer.SquaredFrobenius)]
    [InlineData(Regularizer.NuclearNorm)]
    [InlineData(Regularizer.SpectralEntropy)]
    [InlineData(Regularizer.StableRank)]
    public void Gradients_match_finite_differences(Regularizer kind)
    {
        using var scope = NewDisposeScope();
        GradCheck.Verify((a, b) => Regularizers.Compute(kind, [a, b]), TestData.Randn(4, 5, 3), TestData.Randn(5, 3, 2, 2, 2));
    }

    [Fact]
    public void Rank_penalties_of_expanded_layers_act_on_the_effective_weight()
    {
        using var scope = NewDisposeScope();
        using var source = new LowRankBias.Torch.Modules.Linear(4, 3, dtype: ScalarType.Float64);
        using var layer = new ExpandedLinear(source, new ExpansionOptions { Depth = 3 });
        Tensor penalty = Regularizers.NuclearNorm([layer.EffectiveWeight()]);
        penalty.backward();
        Assert.All(layer.factors, f => Assert.True(f.grad is not null && f.grad.abs().sum().item<double>() > 0));
        Matrix<double> product = layer.factors.Select(TestData.ToMatrix).Aggregate((acc, w) => w * acc);
        Assert.Equal(product.Svd(false).S.Sum(), Value(penalty), 10);
    }

    [Fact]
    public void Bad_weights_are_rejected()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => Regularizers.L1([]));
        Assert.Throws<ArgumentException>(() => Regularizers.L1([tensor(new long[] { 1, 2 })]));
        Assert.Throws<ArgumentException>(() => Regularizers.NuclearNorm([tensor(new double[] { 1, 2 })]));
    }
}
