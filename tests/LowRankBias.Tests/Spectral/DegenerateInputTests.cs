using LowRankBias.Spectral;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

/// <summary>Degenerate input to the spectral and alignment metrics: refused, or the value the docs give.</summary>
public class DegenerateInputTests
{
    [Theory]
    [InlineData(new[] { double.NaN, 1 }, "singular value 0 is NaN")]
    [InlineData(new[] { 2.0, double.PositiveInfinity }, "singular value 1 is ")]
    [InlineData(new[] { 1.0, -0.5 }, "singular value 1 is -0.5")]
    [InlineData(new[] { 3.0, 1, 2 }, "value 2 (2) exceeds value 1 (1)")]
    public void SingularValuesMustBeFiniteNonNegativeAndDescending(double[] values, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => MatrixSpectrum.FromSingularValues(values, "fc.weight"));
        Assert.StartsWith("'fc.weight': ", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void PooledKernelPositionsAreSortedBeforeTheSpectrum()
    {
        using var scope = NewDisposeScope();
        // 2 → 2 channels, 1 × 2 kernel: position 0 has singular values (1, 0), position 1 (3, 2).
        Tensor kernel = tensor(new[] { 1.0, 3, 0, 0, 0, 0, 0, 2 }, [2, 2, 1, 2]);
        MatrixSpectrum s = SpectralMetrics.Analyze(kernel, "conv", new SpectralOptions { ConvolutionLayout = ConvolutionLayout.PerKernelPosition });
        Assert.Equal([3.0, 2.0, 1.0, 0.0], s.SingularValues.Select(v => Math.Round(v, 12)));
    }

    [Theory]
    [InlineData(KnnMetric.Cosine)]
    [InlineData(KnnMetric.Euclidean)]
    public void NearestNeighbourMetricsOfAZeroRepresentationAreNaN(KnnMetric metric)
    {
        using var scope = NewDisposeScope();
        Tensor zero = zeros([6, 3], ScalarType.Float64), other = ToTensor(Gaussian(6, 4, 11));
        Assert.True(double.IsNaN(RepresentationAlignment.MutualKnn(zero, zero, k: 2, metric: metric))); // was 1.0, a tie order
        Assert.True(double.IsNaN(RepresentationAlignment.MutualKnn(other, zero, k: 2, metric: metric)));
        Assert.True(double.IsNaN(RepresentationAlignment.CycleKnn(zero, other, k: 2, metric: metric)));
        Assert.Equal(1.0, RepresentationAlignment.MutualKnn(zero, other, k: 5, metric: metric)); // k = n − 1: every other sample
    }

    [Fact]
    public void CknnaOfAZeroRepresentationIsZeroAsPlatonicRepsAndNaNUnderTheThesis()
    {
        using var scope = NewDisposeScope();
        Tensor zero = zeros([6, 3], ScalarType.Float64), other = ToTensor(Gaussian(6, 4, 11));
        Assert.Equal(0.0, RepresentationAlignment.Cknna(zero, other, k: 2));
        Assert.True(double.IsNaN(RepresentationAlignment.Cknna(zero, other, k: 2, convention: AlignmentConvention.Thesis)));
    }
}
