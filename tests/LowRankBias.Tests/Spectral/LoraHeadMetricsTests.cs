using LowRankBias.Spectral;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public class LoraHeadMetricsTests
{
    [Fact]
    public void CosineSimilarityOfHeadProductsMatchesHandComputation()
    {
        using var scope = NewDisposeScope();
        Matrix<double>[] a = [Gaussian(2, 6, 1), Gaussian(2, 6, 2), Gaussian(2, 6, 1)];
        Matrix<double>[] b = [Gaussian(5, 2, 3), Gaussian(5, 2, 4), -2 * Gaussian(5, 2, 3)]; // head 2 = −2 · head 0
        double[,] cos = LoraHeadMetrics.PairwiseCosineSimilarity(Stack(a), Stack(b));
        Vector<double> Vec(int n) => Vector<double>.Build.DenseOfArray((b[n] * a[n]).ToRowMajorArray());
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) Close(Vec(i) * Vec(j) / (Vec(i).L2Norm() * Vec(j).L2Norm()), cos[i, j], 1e-12, $"cos[{i},{j}]");
        Close(-1, cos[0, 2], 1e-12, "opposite heads");
        Close((cos[0, 1] + cos[0, 2] + cos[1, 2]) / 3, LoraHeadMetrics.MeanPairwiseCosineSimilarity(Stack(a), Stack(b)), 1e-12, "mean");
    }

    [Fact]
    public void GrassmannDistanceHasClosedFormsAndMatchesMathNet()
    {
        using var scope = NewDisposeScope();
        // rank 1 in the plane: column spaces span (1, 0) and (cos t, sin t), at angle t
        const double t = 0.7;
        Tensor a1 = tensor(new double[] { 1, 2, 1, -1 }, [2, 1, 2]);
        Tensor b1 = tensor(new double[] { 3, 0, Math.Cos(t), Math.Sin(t) }, [2, 2, 1]);
        Close(t, LoraHeadMetrics.PairwiseGrassmannDistance(a1, b1)[0, 1], 1e-12, "angle between two lines");

        // r = 2: head 1 spans head 0's column space; head 2 is orthogonal to it
        Matrix<double> q = Gaussian(6, 6, 5).QR().Q;
        Matrix<double> b0 = q.SubMatrix(0, 6, 0, 2) * Gaussian(2, 2, 14), orthogonal = q.SubMatrix(0, 6, 2, 2);
        Matrix<double>[] a = [Gaussian(2, 4, 6), Gaussian(2, 4, 7), Gaussian(2, 4, 8)];
        Matrix<double>[] b = [b0, b0 * Gaussian(2, 2, 9), orthogonal];
        double[,] d = LoraHeadMetrics.PairwiseGrassmannDistance(Stack(a), Stack(b));
        Close(0, d[0, 1], 1e-7, "same subspace");
        Close(Math.Sqrt(2) * Math.PI / 2, d[0, 2], 1e-12, "orthogonal subspaces");
        Close(d[0, 2], d[2, 0], 1e-12, "symmetric");

        // random heads against the definition: principal angles from the left singular vectors of BᵢAᵢ
        Matrix<double>[] ra = [Gaussian(3, 7, 10), Gaussian(3, 7, 11)], rb = [Gaussian(5, 3, 12), Gaussian(5, 3, 13)];
        Matrix<double> U(int n) => (rb[n] * ra[n]).Svd().U.SubMatrix(0, 5, 0, 3);
        double expected = Math.Sqrt((U(0).Transpose() * U(1)).Svd(false).S.Sum(c => Math.Pow(Math.Acos(Math.Min(1, c)), 2)));
        Close(expected, LoraHeadMetrics.MeanPairwiseGrassmannDistance(Stack(ra), Stack(rb)), 1e-9, "random heads");
    }

    [Fact]
    public void ZeroHeadsGiveNaNAndBadShapesThrow()
    {
        using var scope = NewDisposeScope();
        Tensor a = randn([3, 2, 4], ScalarType.Float64), b = randn([3, 5, 2], ScalarType.Float64);
        b[1].zero_(); // LoRA's initial B = 0
        double[,] cos = LoraHeadMetrics.PairwiseCosineSimilarity(a, b);
        Assert.True(double.IsNaN(cos[0, 1]) && double.IsNaN(cos[1, 2]) && double.IsNaN(cos[1, 1]));
        Assert.False(double.IsNaN(cos[0, 2]));
        Assert.True(double.IsNaN(LoraHeadMetrics.MeanPairwiseGrassmannDistance(a, b)));
        Assert.False(double.IsNaN(LoraHeadMetrics.PairwiseGrassmannDistance(a, b)[0, 2]));

        Assert.Throws<ArgumentException>(() => LoraHeadMetrics.PairwiseCosineSimilarity(randn([1, 2, 4]), randn([1, 5, 2])));
        Assert.Throws<ArgumentException>(() => LoraHeadMetrics.PairwiseCosineSimilarity(randn([2, 3, 4]), randn([2, 5, 2])));
        Assert.Throws<ArgumentException>(() => LoraHeadMetrics.PairwiseGrassmannDistance(randn([2, 4]), randn([2, 5, 2])));
    }
}
