using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Torch.torch.nn;

namespace LowRankBias.Torch.Tests.Init;

public class InitTests
{
    [Fact]
    public void GainsFollowTheirDefinitions()
    {
        Assert.Equal(1.0, init.calculate_gain("linear"));
        Assert.Equal(1.0, init.calculate_gain("conv2d"));
        Assert.Equal(5.0 / 3, init.calculate_gain("tanh"));
        Assert.Equal(Math.Sqrt(2), init.calculate_gain("relu"));
        Assert.Equal(Math.Sqrt(2 / (1 + 0.01 * 0.01)), init.calculate_gain("leaky_relu"));
        Assert.Equal(Math.Sqrt(2 / 1.04), init.calculate_gain("leaky_relu", 0.2), 15);
        Assert.Equal(0.75, init.calculate_gain("selu"));
        Assert.Throws<ArgumentException>(() => init.calculate_gain("gelu"));
    }

    [Fact]
    public void FansOfAConvolutionWeightIncludeTheKernel()
    {
        using Tensor w = empty([64, 32, 3, 5]);
        Assert.Equal((32L * 15, 64L * 15), init.calculate_fan_in_and_fan_out(w));
        using Tensor bias = empty([8]);
        Assert.Throws<ArgumentException>(() => init.calculate_fan_in_and_fan_out(bias));
    }

    [Fact]
    public void KaimingUniformHasBoundSqrt3TimesGainOverSqrtFanIn()
    {
        manual_seed(11);
        using Tensor w = empty([200, 300], ScalarType.Float64);
        init.kaiming_uniform_(w);
        double bound = Math.Sqrt(3) * Math.Sqrt(2) / Math.Sqrt(300);
        Assert.All(w.ToArray<double>(), v => Assert.InRange(v, -bound, bound));
        SampleStats.Of(w).AssertMatches(0, bound * bound / 3);
    }

    [Fact]
    public void KaimingNormalWithFanOutOnAConvWeight()
    {
        manual_seed(12);
        using Tensor w = empty([64, 32, 3, 3], ScalarType.Float64);
        init.kaiming_normal_(w, mode: "fan_out", nonlinearity: "relu");
        double std = Math.Sqrt(2) / Math.Sqrt(64 * 9);
        SampleStats.Of(w).AssertMatches(0, std * std);
        Assert.Throws<ArgumentException>(() => init.kaiming_normal_(w, mode: "fan_avg"));
    }

    [Fact]
    public void XavierVariancesAreGainSquaredTimesTwoOverFanSum()
    {
        manual_seed(13);
        using Tensor u = empty([100, 300], ScalarType.Float64);
        init.xavier_uniform_(u, gain: 2);
        double bound = Math.Sqrt(3) * 2 * Math.Sqrt(2.0 / 400);
        Assert.All(u.ToArray<double>(), v => Assert.InRange(v, -bound, bound));
        SampleStats.Of(u).AssertMatches(0, 4 * 2.0 / 400);

        using Tensor n = empty([30, 50, 7], ScalarType.Float64);
        init.xavier_normal_(n);
        SampleStats.Of(n).AssertMatches(0, 2.0 / (50 * 7 + 30 * 7));
    }

    [Fact]
    public void TruncatedNormalMatchesTheTruncatedDistribution()
    {
        manual_seed(14);
        using Tensor t = empty([50_000], ScalarType.Float64);
        init.trunc_normal_(t, mean: 1, std: 2, a: 0, b: 3);
        Assert.All(t.ToArray<double>(), v => Assert.InRange(v, 0, 3));

        // Closed form of N(μ, σ²) truncated to [a, b], with α = (a − μ)/σ and β = (b − μ)/σ.
        double alpha = -0.5, beta = 1, z = Normal.CDF(0, 1, beta) - Normal.CDF(0, 1, alpha);
        double pa = Normal.PDF(0, 1, alpha), pb = Normal.PDF(0, 1, beta);
        double mean = 1 + 2 * (pa - pb) / z;
        double variance = 4 * (1 + (alpha * pa - beta * pb) / z - Math.Pow((pa - pb) / z, 2));
        SampleStats.Of(t).AssertMatches(mean, variance);
        Assert.Throws<ArgumentException>(() => init.trunc_normal_(t, a: 1, b: 1));
    }

    [Fact]
    public void ConstantZerosOnesNormalAndUniformFill()
    {
        using Tensor t = empty([3], ScalarType.Float64, requires_grad: true);
        Assert.Equal(new double[] { 2.5, 2.5, 2.5 }, init.constant_(t, 2.5).ToArray<double>());
        Assert.Equal(new double[3], init.zeros_(t).ToArray<double>());
        Assert.Equal(new double[] { 1, 1, 1 }, init.ones_(t).ToArray<double>());
        Assert.True(t.is_leaf);
        Assert.All(init.uniform_(t, 4, 5).ToArray<double>(), v => Assert.InRange(v, 4, 5));

        manual_seed(15);
        using Tensor big = empty([40_000], ScalarType.Float64);
        SampleStats.Of(init.normal_(big, -1, 0.5)).AssertMatches(-1, 0.25);
    }

    private static Matrix<double> AsMatrix(Tensor t)
    {
        using Tensor d = t.to(ScalarType.Float64);
        int rows = (int)t.size(0);
        return Matrix<double>.Build.DenseOfRowMajor(rows, (int)(t.numel() / rows), d.ToArray<double>());
    }

    [Theory]
    [InlineData(8, 5, 1.0)]
    [InlineData(5, 8, 2.0)]
    public void OrthogonalHasOrthonormalRowsOrColumnsTimesGain(int rows, int cols, double gain)
    {
        manual_seed(16);
        using Tensor w = empty([rows, cols]);
        Matrix<double> q = AsMatrix(init.orthogonal_(w, gain));
        Matrix<double> gram = rows >= cols ? q.TransposeThisAndMultiply(q) : q.TransposeAndMultiply(q);
        Matrix<double> expected = Matrix<double>.Build.DenseIdentity(Math.Min(rows, cols)) * (gain * gain);
        Assert.True((gram - expected).FrobeniusNorm() < 1e-5, $"QᵀQ deviates from {gain * gain}·I by {(gram - expected).FrobeniusNorm()}");
    }

    [Fact]
    public void OrthogonalFlattensTrailingDimensionsAndNeedsTwo()
    {
        manual_seed(17);
        using Tensor w = empty([4, 2, 3], ScalarType.Float64);
        Matrix<double> q = AsMatrix(init.orthogonal_(w));
        Assert.True((q.TransposeAndMultiply(q) - Matrix<double>.Build.DenseIdentity(4)).FrobeniusNorm() < 1e-12);
        using Tensor v = empty([4]);
        Assert.Throws<ArgumentException>(() => init.orthogonal_(v));
    }

    [Theory]
    [InlineData(6, 10)]
    [InlineData(10, 4)]
    public void SemiOrthogonalSingularValuesAllEqualSqrtDoutOverDin(int dOut, int dIn)
    {
        manual_seed(18);
        using Tensor w = empty([dOut, dIn], ScalarType.Float64);
        double[] singular = AsMatrix(init.semi_orthogonal_(w)).Svd(computeVectors: false).S.ToArray();
        Assert.Equal(Math.Min(dOut, dIn), singular.Length);
        Assert.All(singular, s => Assert.Equal(Math.Sqrt((double)dOut / dIn), s, 1e-12));
    }

    [Fact]
    public void OrthogonalIsSignSymmetricThanksToTheSignCorrection()
    {
        // A raw Householder QR makes Q's first entry negative every time; the Haar distribution that the sign
        // correction yields has it positive half of the time (binomial: 0.5 ± 6·√(0.25/n)).
        manual_seed(19);
        const int draws = 200;
        using Tensor w = empty([4, 4], ScalarType.Float64);
        int positive = 0;
        for (int i = 0; i < draws; i++)
            if (init.orthogonal_(w).ToArray<double>()[0] > 0) positive++;
        Assert.InRange(positive / (double)draws, 0.5 - 6 * Math.Sqrt(0.25 / draws), 0.5 + 6 * Math.Sqrt(0.25 / draws));
    }
}
