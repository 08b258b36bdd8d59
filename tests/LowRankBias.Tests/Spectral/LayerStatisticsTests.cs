using LowRankBias.Spectral;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public class LayerStatisticsTests
{
    [Fact]
    public void HarmonicMeanAndMeanInverseStableRankMatchHandComputation()
    {
        using var scope = NewDisposeScope();
        // stable ranks ‖W‖_F/‖W‖₂: identity 4×4 → 2, rank 1 → 1, diag(3, 4) → 5/4
        var layers = SpectralMetrics.Analyze([("eye", eye(4)), ("rank1", ones([3, 5])), ("diag", tensor(new float[,] { { 3, 0 }, { 0, 4 } }))]);
        double inverse = (1 / 2.0 + 1 + 4 / 5.0) / 3;
        Close(inverse, LayerStatistics.MeanInverseStableRankSqrt(layers), 1e-6, "mean inverse stable rank");
        Close(1 / inverse, LayerStatistics.HarmonicMeanStableRankSqrt(layers), 1e-6, "harmonic mean");
    }

    [Fact]
    public void FrobeniusNormsReportTheirSpread()
    {
        using var scope = NewDisposeScope();
        var equal = LayerStatistics.FrobeniusNorms(SpectralMetrics.Analyze([("a", eye(4)), ("b", ones([2, 2]))]));
        Close(2, equal.Mean, 1e-6, "mean");
        Close(0, equal.CoefficientOfVariation, 1e-6, "coefficient of variation");
        Close(1, equal.MaxToMinRatio, 1e-6, "ratio");

        var unequal = LayerStatistics.FrobeniusNorms(FastSpectral.EstimateNorms([("a", eye(1)), ("b", ones([1, 9]))]));
        Assert.Equal(new[] { ("a", 1.0), ("b", 3.0) }, unequal.Norms.Select(n => (n.Name, Math.Round(n.Norm, 6))));
        Close(0.5, unequal.CoefficientOfVariation, 1e-6, "σ/μ = 1/2");
        Close(3, unequal.MaxToMinRatio, 1e-6, "ratio");
    }

    [Fact]
    public void EmptyInputThrowsAndZeroLayersGiveNaN()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => LayerStatistics.HarmonicMeanStableRankSqrt([]));
        Assert.True(double.IsNaN(LayerStatistics.MeanInverseStableRankSqrt(SpectralMetrics.Analyze([("z", zeros([2, 2])), ("i", eye(2))]))));
    }
}
