using LowRankBias.Spectral;
using LowRankBias.Torch.Modules;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public sealed class SvdPruningTests
{
    [Theory]
    [InlineData(SpectrumPart.Top, 0.5)]
    [InlineData(SpectrumPart.Bottom, 0.5)]
    [InlineData(SpectrumPart.Bottom, 0.25)]
    public void PruningZeroesThatPartOfTheSpectrumAndKeepsTheRest(SpectrumPart part, double fraction)
    {
        using var scope = NewDisposeScope();
        double[] s = [5, 4, 3, 2, 1.5, 1, 0.5, 0.25];
        Matrix<double> w = WithSpectrum(10, 8, s, seed: 3);
        Matrix<double> pruned = ToMatrix(SvdPruning.Prune(ToTensor(w), fraction, part));

        // Float64 oracle: MathNet's SVD with the same singular values zeroed.
        var svd = w.Svd();
        int removed = (int)Math.Round(fraction * s.Length, MidpointRounding.AwayFromZero);
        var kept = Vector<double>.Build.DenseOfEnumerable(svd.S.Select((v, i) => (part == SpectrumPart.Top ? i >= removed : i < s.Length - removed) ? v : 0));
        Matrix<double> expected = svd.U.SubMatrix(0, 10, 0, 8) * Matrix<double>.Build.DiagonalOfDiagonalVector(kept) * svd.VT;
        Assert.True((pruned - expected).FrobeniusNorm() < 1e-10 * w.FrobeniusNorm());
        double[] left = SingularValues(pruned);
        Assert.Equal(s.Length - removed, left.Count(v => v > 1e-9));
    }

    [Fact]
    public void ApplyPrunesEveryLayerWhenAskedAndRestoresThemBitForBit()
    {
        using var scope = NewDisposeScope();
        var model = new Sequential(new Linear(6, 5, dtype: ScalarType.Float64), new Conv2d(5, 4, 3, dtype: ScalarType.Float64));
        Tensor[] weights = [((Linear)model[0]).weight, ((Conv2d)model[1]).weight];
        Tensor[] before = weights.Select(w => w.clone()).ToArray();
        using (SvdPruning.Apply(model, 0.5, SpectrumPart.Bottom, includeLast: true))
        {
            // 5×6 has rank 5: round(2.5) = 3 removed, 2 left; the 4×45 flattened convolution keeps 2 of 4.
            Assert.Equal(2, SingularValues(ToMatrix(weights[0])).Count(v => v > 1e-9));
            Assert.Equal(2, SingularValues(ToMatrix(weights[1].reshape(4, -1))).Count(v => v > 1e-9));
        }
        for (int i = 0; i < 2; i++) Assert.Equal(before[i].ToArray<double>(), weights[i].ToArray<double>());
    }

    [Fact]
    public void ByDefaultTheLastLayerIsLeftAlone()
    {
        using var scope = NewDisposeScope();
        var model = new Sequential(new Linear(6, 5, dtype: ScalarType.Float64), new ReLU(), new Linear(5, 4, dtype: ScalarType.Float64));
        Tensor first = ((Linear)model[0]).weight, last = ((Linear)model[2]).weight;
        double[] lastBefore = last.ToArray<double>();
        using (SvdPruning.Apply(model, 0.5, SpectrumPart.Top))
        {
            Assert.Equal(2, SingularValues(ToMatrix(first)).Count(v => v > 1e-9));
            Assert.Equal(lastBefore, last.ToArray<double>());
        }
    }

    [Fact]
    public void BadInputIsRefused()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => SvdPruning.Prune(zeros([3, 3]), 1.5, SpectrumPart.Top));
        Assert.Throws<ArgumentException>(() => SvdPruning.Prune(zeros([3]), 0.5, SpectrumPart.Top));
        Assert.Throws<ArgumentException>(() => SvdPruning.Apply(new Sequential(new Tanh()), 0.5, SpectrumPart.Top));
        Assert.Throws<ArgumentException>(() => SvdPruning.Apply(new Sequential(new Linear(3, 3)), 0.5, SpectrumPart.Top));
    }
}
