using LowRankBias.Spectral;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public class FastSpectralTests
{
    private static readonly double[] Decaying = Enumerable.Range(0, 12).Select(i => 5 * Math.Pow(0.7, i)).ToArray();

    [Fact]
    public void PowerIterationMatchesTheExactSpectralNormOfEachMatrixInABatch()
    {
        using var scope = NewDisposeScope();
        Matrix<double>[] ms = [WithSpectrum(30, 20, Decaying, seed: 1), WithSpectrum(30, 20, [2, 1.5, 1], seed: 3), Gaussian(30, 20, seed: 5)];
        Tensor batch = Stack(ms);
        double[] estimates = FastSpectral.SpectralNorm(batch, iterations: 300).ToArray<double>();
        for (int i = 0; i < ms.Length; i++)
        {
            double truth = ms[i].L2Norm();
            Assert.True(estimates[i] <= truth * (1 + 1e-12), "power iteration cannot overshoot σ₁");
            Close(truth, estimates[i], i < 2 ? 1e-10 : 1e-3, $"matrix {i}");
        }
    }

    [Fact]
    public void PowerIterationHandlesZeroAndHalfPrecisionAndLeavesTheTorchGeneratorAlone()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(0f, FastSpectral.SpectralNorm(zeros([4, 3])).item<float>());
        Tensor m = ToTensor(WithSpectrum(16, 8, Decaying[..8], seed: 7), ScalarType.BFloat16);
        Close(5, FastSpectral.SpectralNorm(m).item<float>(), 2e-2, "bfloat16 input computed in float32");

        manual_seed(1);
        float expected = rand([1]).item<float>();
        manual_seed(1);
        FastSpectral.SpectralNorm(m);
        FastSpectral.RandomizedSvd(m.@float(), 2);
        Assert.Equal(expected, rand([1]).item<float>());
    }

    [Fact]
    public void EstimatedNormsAgreeWithTheExactSpectrum()
    {
        using var scope = NewDisposeScope();
        var weights = new List<(string, Tensor)>
        {
            ("w", ToTensor(WithSpectrum(40, 24, Decaying, seed: 9))),
            ("conv", ToTensor(WithSpectrum(8, 36, [3, 1, 0.5], seed: 11)).view(8, 4, 3, 3)),
        };
        foreach (ConvolutionLayout layout in Enum.GetValues<ConvolutionLayout>())
        {
            var exact = SpectralMetrics.Analyze(weights, new SpectralOptions { ConvolutionLayout = layout });
            var fast = FastSpectral.EstimateNorms(weights, iterations: 300, layout: layout);
            foreach (var (e, f) in exact.Zip(fast))
            {
                Assert.Equal(e.Name, f.Name);
                Assert.Equal(e.Shape, f.Shape);
                Close(e.FrobeniusNorm, f.FrobeniusNorm, 1e-10, $"{layout} {e.Name} Frobenius");
                Close(e.StableRank, f.StableRank, 1e-6, $"{layout} {e.Name} stable rank");
                Close(e.StableRankSqrt, f.StableRankSqrt, 1e-6, $"{layout} {e.Name} √stable rank");
            }
        }
    }

    [Fact]
    public void RandomizedSvdFindsTheTopSingularTriplets()
    {
        using var scope = NewDisposeScope();
        Matrix<double> m = WithSpectrum(200, 120, Enumerable.Range(0, 60).Select(i => Math.Pow(0.7, i)).ToArray(), seed: 13);
        var svd = m.Svd();
        Tensor batch = Stack(m, 2 * m);
        (Tensor u, Tensor s, Tensor vh) = FastSpectral.RandomizedSvd(batch, k: 6);
        Assert.Equal(new long[] { 2, 200, 6 }, u.shape);
        Assert.Equal(new long[] { 2, 6 }, s.shape);
        Assert.Equal(new long[] { 2, 6, 120 }, vh.shape);
        double[] values = s.ToArray<double>();
        Matrix<double> u0 = ToMatrix(u[0]), v0 = ToMatrix(vh[0]).Transpose();
        for (int i = 0; i < 6; i++)
        {
            Close(svd.S[i], values[i], 1e-8, $"σ{i}");
            Close(2 * svd.S[i], values[6 + i], 1e-8, $"2σ{i}");
            Close(1, Math.Abs(u0.Column(i) * svd.U.Column(i)), 1e-6, $"u{i}");
            Close(1, Math.Abs(v0.Column(i) * svd.VT.Row(i)), 1e-6, $"v{i}");
        }
    }

    [Fact]
    public void BadArgumentsThrow()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => FastSpectral.RandomizedSvd(ones([5, 3]), k: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => FastSpectral.RandomizedSvd(ones([5, 3]), k: 0));
        Assert.Throws<ArgumentException>(() => FastSpectral.SpectralNorm(ones([5])));
        Assert.Throws<ArgumentException>(() => FastSpectral.SpectralNorm(ones([0, 3])));
        Assert.Throws<ArgumentException>(() => FastSpectral.EstimateNorms(ones([2, 2, 2])));
    }
}
