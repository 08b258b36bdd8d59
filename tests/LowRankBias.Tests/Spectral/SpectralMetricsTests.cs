using LowRankBias.Spectral;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public class SpectralMetricsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(16)]
    public void IdentityHasFullFlatSpectrum(int n)
    {
        using var scope = NewDisposeScope();
        MatrixSpectrum s = SpectralMetrics.Analyze(eye(n, dtype: ScalarType.Float64), "I");
        Close(n, s.EffectiveRank, 1e-12, "effective rank");
        Close(1, s.NormalizedEffectiveRank, 1e-12, "normalised effective rank");
        Close(Math.Log(n), s.SpectralEntropy, 1e-12, "entropy");
        Close(n, s.StableRank, 1e-12, "stable rank");
        Close(Math.Sqrt(n), s.StableRankSqrt, 1e-12, "√stable rank");
        Close(n, s.NuclearNorm, 1e-12, "nuclear");
        Close(Math.Sqrt(n), s.FrobeniusNorm, 1e-12, "Frobenius");
        Close(1, s.SpectralNorm, 1e-12, "spectral");
        Close(1, s.ConditionNumber, 1e-12, "condition");
        Assert.Equal(n, s.ThresholdRank);
        Assert.Equal("I", s.Name);
        Assert.Equal(new long[] { n, n }, s.Shape);
    }

    [Fact]
    public void RankOneMatrixHasRankOneMetrics()
    {
        using var scope = NewDisposeScope();
        Matrix<double> u = Gaussian(7, 1, seed: 1), v = Gaussian(5, 1, seed: 2);
        MatrixSpectrum s = SpectralMetrics.Analyze(ToTensor(u * v.Transpose()));
        Close(1, s.EffectiveRank, 1e-9, "effective rank");
        Close(0.2, s.NormalizedEffectiveRank, 1e-9, "normalised effective rank");
        Close(1, s.StableRank, 1e-12, "stable rank");
        Close(1, s.StableRankSqrt, 1e-12, "√stable rank");
        Assert.Equal(1, s.ThresholdRank);
        Close(u.L2Norm() * v.L2Norm(), s.SpectralNorm, 1e-12, "spectral");
        Assert.True(s.ConditionNumber > 1e10, $"condition number {s.ConditionNumber}");
    }

    [Fact]
    public void DiagonalMatrixMatchesHandComputedEntropyAndThresholdRanks()
    {
        using var scope = NewDisposeScope();
        Tensor d = tensor(new double[,] { { 3, 0, 0, 0 }, { 0, 0, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 2 } });
        // p = (1/2, 1/3, 1/6, 0)
        double expected = -(0.5 * Math.Log(0.5) + Math.Log(1.0 / 3) / 3 + Math.Log(1.0 / 6) / 6);
        MatrixSpectrum s = SpectralMetrics.Analyze(d, options: new SpectralOptions { ThresholdTau = 0.4 });
        Assert.Equal(new double[] { 3, 2, 1, 0 }, s.SingularValues);
        Close(expected, s.SpectralEntropy, 1e-12, "entropy");
        Close(Math.Exp(expected) / 4, s.NormalizedEffectiveRank, 1e-12, "normalised effective rank");
        Assert.Equal(2, s.ThresholdRank); // σ > 1.2
        Assert.Equal(double.PositiveInfinity, s.ConditionNumber);
        Close(14.0 / 9, s.StableRank, 1e-12, "stable rank");

        // p = (9, 4, 1) / 14
        var squared = SpectralMetrics.Analyze(d, options: new SpectralOptions { EntropyWeighting = SpectrumWeighting.SquaredSingularValues });
        Close(-(9 * Math.Log(9.0 / 14) + 4 * Math.Log(4.0 / 14) + Math.Log(1.0 / 14)) / 14, squared.SpectralEntropy, 1e-12, "squared entropy");

        // σ/Σσ = (1/2, 1/3, 1/6, 0) against τ = 0.2 and 0.1 (Huh thesis Def. 7.3.2)
        var bySum = new SpectralOptions { ThresholdReference = ThresholdReference.SumOfSingularValues, ThresholdTau = 0.2 };
        Assert.Equal(2, SpectralMetrics.Analyze(d, options: bySum).ThresholdRank);
        Assert.Equal(3, SpectralMetrics.Analyze(d, options: bySum with { ThresholdTau = 0.1 }).ThresholdRank);
    }

    [Theory]
    [InlineData(8, 5)]
    [InlineData(5, 8)]
    [InlineData(32, 32)]
    [InlineData(40, 17)]
    public void RandomMatricesMatchMathNet(int rows, int cols)
    {
        using var scope = NewDisposeScope();
        Matrix<double> m = Gaussian(rows, cols, seed: rows * 100 + cols);
        double[] truth = SingularValues(m);
        var options = new SpectralOptions { ThresholdTau = 0.3 };
        MatrixSpectrum s = SpectralMetrics.Analyze(ToTensor(m), options: options);

        Assert.Equal(truth.Length, s.SingularValues.Length);
        for (int i = 0; i < truth.Length; i++) Close(truth[i], s.SingularValues[i], 1e-10, $"σ{i}");
        double h = Entropy(truth);
        Close(h, s.SpectralEntropy, 1e-10, "entropy");
        Close(Math.Exp(h), s.EffectiveRank, 1e-10, "effective rank");
        Close(Math.Exp(h) / truth.Length, s.NormalizedEffectiveRank, 1e-10, "normalised effective rank");
        Close(m.FrobeniusNorm(), s.FrobeniusNorm, 1e-10, "Frobenius");
        Close(m.L2Norm(), s.SpectralNorm, 1e-10, "spectral");
        Close(truth.Sum(), s.NuclearNorm, 1e-10, "nuclear");
        Close(Math.Pow(m.FrobeniusNorm() / m.L2Norm(), 2), s.StableRank, 1e-10, "stable rank");
        Close(truth[0] / truth[^1], s.ConditionNumber, 1e-8, "condition");
        Assert.Equal(truth.Count(v => v > 0.3 * truth[0]), s.ThresholdRank);

        // float32 weights are analysed in float32 unless float64 is asked for
        Tensor single = ToTensor(m, ScalarType.Float32);
        MatrixSpectrum fast = SpectralMetrics.Analyze(single);
        Close(Math.Exp(h), fast.EffectiveRank, 1e-4, "float32 effective rank");
        double[] roundedTruth = SingularValues(ToMatrix(single));
        MatrixSpectrum precise = SpectralMetrics.Analyze(single, options: new SpectralOptions { ComputeInFloat64 = true });
        for (int i = 0; i < truth.Length; i++) Close(roundedTruth[i], precise.SingularValues[i], 1e-10, $"float64 σ{i}");
    }

    [Fact]
    public void ConvolutionIsFlattenedOrPooledPerKernelPosition()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        Tensor conv = randn([6, 4, 3, 2], ScalarType.Float64);

        MatrixSpectrum flat = SpectralMetrics.Analyze(conv);
        double[] flatTruth = SingularValues(ToMatrix(conv.reshape(6, 24)));
        Assert.Equal(6, flat.SingularValues.Length);
        for (int i = 0; i < 6; i++) Close(flatTruth[i], flat.SingularValues[i], 1e-10, $"flattened σ{i}");
        Assert.Equal(new long[] { 6, 4, 3, 2 }, flat.Shape);

        var pooledOptions = new SpectralOptions { ConvolutionLayout = ConvolutionLayout.PerKernelPosition };
        MatrixSpectrum pooled = SpectralMetrics.Analyze(conv, options: pooledOptions);
        double[] pooledTruth = Enumerable.Range(0, 3).SelectMany(i => Enumerable.Range(0, 2)
                .SelectMany(j => SingularValues(ToMatrix(conv.select(2, i).select(2, j)))))
            .OrderDescending().ToArray();
        Assert.Equal(24, pooled.SingularValues.Length);
        for (int i = 0; i < 24; i++) Close(pooledTruth[i], pooled.SingularValues[i], 1e-10, $"pooled σ{i}");
        Close(flat.FrobeniusNorm, pooled.FrobeniusNorm, 1e-10, "pooling keeps ‖W‖_F");
    }

    [Fact]
    public void BatchedAnalysisEqualsOneByOneAndKeepsOrder()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var weights = new List<(string, Tensor)>
        {
            ("a", randn([6, 4])), ("b", randn([4, 6])), ("c", randn([6, 4])), ("conv", randn([6, 2, 1, 2])),
            ("d", randn([6, 4], ScalarType.Float64)), ("half", randn([6, 4]).to(ScalarType.BFloat16)),
        };
        IReadOnlyList<MatrixSpectrum> batched = SpectralMetrics.Analyze(weights);
        Assert.Equal(weights.Select(w => w.Item1), batched.Select(s => s.Name));
        foreach (var ((name, weight), spectrum) in weights.Zip(batched))
        {
            double[] truth = SingularValues(ToMatrix(WeightMatrices.AsMatrix(weight)));
            for (int i = 0; i < truth.Length; i++) Close(truth[i], spectrum.SingularValues[i], 1e-5, $"{name} σ{i}");
        }
    }

    [Fact]
    public void EveryMatrixOfAVitSAgreesBatchedAndOneByOne()
    {
        using var scope = NewDisposeScope();
        manual_seed(0);
        using var model = new LowRankBias.Torch.Models.VisionTransformer(LowRankBias.Torch.Models.VisionTransformer.Config.ViT_S);
        IReadOnlyList<(string name, Tensor weight)> weights = SpectralMonitor.Weights(model);
        Assert.True(weights.Count >= 48 && weights.Select(w => string.Join("x", w.weight.shape)).Distinct().Count() <= 8, "ViT-S: many matrices, few shapes");
        IReadOnlyList<MatrixSpectrum> batched = SpectralMetrics.Analyze(weights);
        foreach (var ((name, weight), spectrum) in weights.Zip(batched))
        {
            MatrixSpectrum alone = SpectralMetrics.Analyze(weight, name);
            Assert.Equal(alone.SingularValues.Length, spectrum.SingularValues.Length);
            for (int i = 0; i < alone.SingularValues.Length; i++) Close(alone.SingularValues[i], spectrum.SingularValues[i], 1e-5, $"{name} σ{i}");
            Close(alone.EffectiveRank, spectrum.EffectiveRank, 1e-5, $"{name} effective rank");
        }
    }

    [Fact]
    public void ZeroMatrixHasRankZero()
    {
        using var scope = NewDisposeScope();
        var spectra = SpectralMetrics.Analyze([("zero", zeros([3, 4])), ("good", eye(3))]);

        MatrixSpectrum zero = spectra[0];
        Assert.Equal(0, zero.FrobeniusNorm);
        Assert.Equal(0, zero.SpectralNorm);
        Assert.Equal(0, zero.NuclearNorm);
        Assert.Equal(0, zero.ThresholdRank);
        Assert.Equal((0.0, 0.0, 0.0, 0.0, 0.0), (zero.SpectralEntropy, zero.EffectiveRank, zero.NormalizedEffectiveRank, zero.StableRank, zero.StableRankSqrt));
        Assert.Equal(double.PositiveInfinity, zero.ConditionNumber);
        Assert.Equal(0, new MatrixNormEstimate("zero", [3, 4], 0, 0).StableRank);
        Close(3, spectra[1].EffectiveRank, 1e-6, "the identity in the same batch");
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void NonFiniteMatrixIsRefusedNamingTheWeight(double bad)
    {
        using var scope = NewDisposeScope();
        Tensor poisoned = eye(3).masked_fill(eye(3) > 0.5, bad);

        var error = Assert.Throws<ArgumentException>(() => SpectralMetrics.Analyze([("good", eye(3)), ("blocks.1.fc.weight", poisoned)]));

        Assert.StartsWith("weight 'blocks.1.fc.weight' has NaN or ±∞ entries", error.Message);
    }

    [Fact]
    public void BadInputsThrowClearExceptions()
    {
        using var scope = NewDisposeScope();
        Assert.Contains("2-D", Assert.Throws<ArgumentException>(() => SpectralMetrics.Analyze(ones([5]), "bias")).Message);
        Assert.Contains("'qkv'", Assert.Throws<ArgumentException>(() => SpectralMetrics.Analyze(ones([2, 3, 4]), "qkv")).Message);
        Assert.Throws<ArgumentException>(() => SpectralMetrics.Analyze(ones([1, 2, 3, 4, 5])));
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => SpectralMetrics.Analyze(ones([0, 3]))).Message);
        Assert.Contains("floating", Assert.Throws<ArgumentException>(() => SpectralMetrics.Analyze(ones([3, 3], ScalarType.Int64))).Message);
        Assert.Throws<ArgumentException>(() => SpectralMetrics.Analyze(Array.Empty<(string, Tensor)>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpectralOptions { ThresholdTau = 1 });
        Assert.Throws<ArgumentException>(() => MatrixSpectrum.FromSingularValues([1, -1]));
    }

    [Fact]
    public void AnalysisLeaksNoTensorsAndRecordsNoGraph()
    {
        using Tensor w = randn([20, 10], requires_grad: true);
        using Tensor conv = w.view(5, 4, 5, 2);
        long before = LowRankBias.Torch.Tests.TestData.SettledLiveCount();
        var spectra = SpectralMetrics.Analyze([("w", w), ("conv", conv)],
            new SpectralOptions { ConvolutionLayout = ConvolutionLayout.PerKernelPosition });
        Assert.Equal(before, Tensor.LiveCount);
        Assert.Equal(2, spectra.Count);
        Assert.Null(w.grad);
    }
}
