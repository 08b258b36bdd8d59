using LowRankBias.Spectral;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Statistics;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public class GramMatrixTests
{
    [Fact]
    public void KernelsMatchHandComputation()
    {
        using var scope = NewDisposeScope();
        Matrix<double> f = Gaussian(9, 4, seed: 21);
        f.SetRow(3, new double[4]); // a zero sample
        Tensor features = ToTensor(f);
        Matrix<double> linear = ToMatrix(GramMatrix.Compute(features, GramKernel.Linear));
        Matrix<double> cosine = ToMatrix(GramMatrix.Compute(features));
        Matrix<double> correlation = ToMatrix(GramMatrix.Compute(features, GramKernel.Correlation));
        for (int i = 0; i < 9; i++)
            for (int j = 0; j < 9; j++)
            {
                double dot = f.Row(i) * f.Row(j);
                Close(dot, linear[i, j], 1e-12, $"linear {i},{j}");
                double norms = f.Row(i).L2Norm() * f.Row(j).L2Norm();
                Close(norms == 0 ? 0 : dot / norms, cosine[i, j], 1e-12, $"cosine {i},{j}");
                double pearson = i == 3 || j == 3 ? 0 : Correlation.Pearson(f.Row(i), f.Row(j));
                Close(pearson, correlation[i, j], 1e-12, $"correlation {i},{j}");
            }
    }

    [Fact]
    public void EffectiveRankOfTheGramMatrixHasClosedFormsAndMatchesMathNet()
    {
        using var scope = NewDisposeScope();
        // one direction at different positive scales: every cosine is 1, K = 11ᵀ has rank 1
        Tensor collinear = tensor(new double[] { 1, 2, 3, 4, 5 }, [5, 1]).matmul(tensor(new double[] { 1, -2, 0.5 }, [1, 3]));
        Close(1, GramMatrix.Spectrum(collinear).EffectiveRank, 1e-9, "collinear features");
        // orthonormal samples: K = I
        Close(4, GramMatrix.Spectrum(eye(4, 7, ScalarType.Float64), GramKernel.Linear).EffectiveRank, 1e-12, "orthonormal samples");

        Matrix<double> f = Gaussian(20, 6, seed: 22);
        Matrix<double> k = f * f.Transpose();
        MatrixSpectrum s = GramMatrix.Spectrum(ToTensor(f), GramKernel.Linear);
        Close(Entropy(SingularValues(k)), s.SpectralEntropy, 1e-9, "entropy of the Gram spectrum");
        Assert.Equal(6, s.ThresholdRank); // rank of K is the feature dimension
    }

    [Fact]
    public void BadFeaturesThrow()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => GramMatrix.Compute(ones([5])));
        Assert.Throws<ArgumentException>(() => GramMatrix.Compute(ones([2, 3, 4])));
        Assert.Throws<ArgumentException>(() => GramMatrix.Compute(ones([0, 4])));
    }
}
