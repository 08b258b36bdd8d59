using LowRankBias.Spectral;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public class LayerAlignmentTests
{
    private static Matrix<double> Orthonormal(int n, int seed) => Gaussian(n, n, seed).QR().Q;

    [Fact]
    public void ConsecutiveLayersSharingTheirDirectionsAreFullyAligned()
    {
        using var scope = NewDisposeScope();
        // W1 = U diag(s) V1ᵀ [6, 8]; W2 = U2 diag(s') Uᵀ [5, 6] takes W1's output directions as its input directions
        Matrix<double> u = Orthonormal(6, 1), v1 = Orthonormal(8, 2).SubMatrix(0, 8, 0, 6), u2 = Orthonormal(5, 3);
        Matrix<double> w1 = u * Matrix<double>.Build.DiagonalOfDiagonalArray([6, 5, 4, 3, 2, 1]) * v1.Transpose();
        Matrix<double> w2 = u2 * Matrix<double>.Build.DiagonalOfDiagonalArray([5, 4, 3, 2, 1]) * u.SubMatrix(0, 6, 0, 5).Transpose();
        AlignmentResult r = LayerAlignment.Consecutive(ToTensor(w1), ToTensor(w2), computeInFloat64: true);
        Assert.Equal(6, r.Matrix.GetLength(0));
        Assert.Equal(5, r.Matrix.GetLength(1));
        for (int j = 0; j < 6; j++)
            for (int k = 0; k < 5; k++) Close(j == k ? 1 : 0, r.Matrix[j, k], 1e-10, $"A[{j},{k}]");
        Close(1, r.Score, 1e-10, "score");
    }

    [Theory]
    [InlineData(7, 9, 4)]
    [InlineData(12, 5, 3)]
    public void ConsecutiveAlignmentMatchesMathNet(int m, int n, int p)
    {
        using var scope = NewDisposeScope();
        Matrix<double> w1 = Gaussian(m, n, seed: m), w2 = Gaussian(p, m, seed: 100 + p);
        Matrix<double> u1 = w1.Svd().U, v2 = w2.Svd().VT.Transpose();
        AlignmentResult r = LayerAlignment.Consecutive(ToTensor(w1), ToTensor(w2), scoreCount: 2, computeInFloat64: true);
        int rows = Math.Min(m, n), cols = Math.Min(p, m);
        Assert.Equal(rows, r.Matrix.GetLength(0));
        Assert.Equal(cols, r.Matrix.GetLength(1));
        for (int j = 0; j < rows; j++)
            for (int k = 0; k < cols; k++) Close(Math.Abs(u1.Column(j) * v2.Column(k)), r.Matrix[j, k], 1e-9, $"A[{j},{k}]");
        Close((r.Matrix[0, 0] + r.Matrix[1, 1]) / 2, r.Score, 1e-12, "score over the top 2");
        Assert.Equal(Math.Min(rows, cols), r.Diagonal.Length);

        AlignmentResult truncated = LayerAlignment.Consecutive(ToTensor(w1), ToTensor(w2), maxDirections: 2, computeInFloat64: true);
        Assert.Equal(2, truncated.Matrix.GetLength(0));
        Close((r.Diagonal[0] + r.Diagonal[1]) / 2, truncated.Score, 1e-12, "score of the kept directions");
    }

    [Fact]
    public void PerHeadInputsAverageTheHeads()
    {
        using var scope = NewDisposeScope();
        Matrix<double>[] first = [Gaussian(4, 6, 1), Gaussian(4, 6, 2)], second = [Gaussian(6, 4, 3), Gaussian(6, 4, 4)];
        AlignmentResult both = LayerAlignment.Consecutive(Stack(first), Stack(second), computeInFloat64: true);
        AlignmentResult h0 = LayerAlignment.Consecutive(ToTensor(first[0]), ToTensor(second[0]), computeInFloat64: true);
        AlignmentResult h1 = LayerAlignment.Consecutive(ToTensor(first[1]), ToTensor(second[1]), computeInFloat64: true);
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 4; k++) Close((h0.Matrix[j, k] + h1.Matrix[j, k]) / 2, both.Matrix[j, k], 1e-10, $"A[{j},{k}]");
        Close((h0.Score + h1.Score) / 2, both.Score, 1e-10, "score");
    }

    [Fact]
    public void SingularVectorAgreementMatchesMathNetAndIsOneForARescaledCheckpoint()
    {
        using var scope = NewDisposeScope();
        Matrix<double> earlier = Gaussian(8, 5, seed: 31), later = earlier + 0.3 * Gaussian(8, 5, seed: 32);
        var a = earlier.Svd();
        var b = later.Svd();
        AlignmentResult r = LayerAlignment.SingularVectorAgreement(ToTensor(earlier), ToTensor(later), computeInFloat64: true);
        for (int j = 0; j < 5; j++)
            for (int k = 0; k < 5; k++)
            {
                double expected = Math.Abs(a.U.Column(j) * b.U.Column(k)) * Math.Abs(a.VT.Row(j) * b.VT.Row(k));
                Close(expected, r.Matrix[j, k], 1e-9, $"S[{j},{k}]");
            }
        Close(r.Diagonal.Average(), r.Score, 1e-12, "score over all 5 (fewer than 10)");

        AlignmentResult same = LayerAlignment.SingularVectorAgreement(ToTensor(earlier), ToTensor(3 * earlier), computeInFloat64: true);
        Assert.All(same.Diagonal, d => Close(1, d, 1e-9, "diagonal"));
    }

    [Fact]
    public void MismatchedOrInvalidMatricesThrow()
    {
        using var scope = NewDisposeScope();
        Assert.Contains("input size", Assert.Throws<ArgumentException>(() => LayerAlignment.Consecutive(ones([4, 5]), ones([3, 5]))).Message);
        Assert.Throws<ArgumentException>(() => LayerAlignment.Consecutive(ones([4, 5, 3, 3]), ones([3, 4])));
        Assert.Throws<ArgumentException>(() => LayerAlignment.Consecutive(ones([2, 4, 5]), ones([3, 3, 4])));
        Assert.Throws<ArgumentException>(() => LayerAlignment.SingularVectorAgreement(ones([4, 5]), ones([5, 4])));
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => LayerAlignment.SingularVectorAgreement(ones([2, 2]) / 0.0, ones([2, 2]))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerAlignment.Consecutive(ones([4, 5]), ones([3, 4]), scoreCount: 0));
    }
}
