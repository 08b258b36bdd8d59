using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests;

/// <summary>torch.linalg values against MathNet.Numerics (float64) and closed forms.</summary>
public class LinalgTests
{
    private const double Tol = 1e-10;

    private static double[] Identity(int n) => Matrix<double>.Build.DenseIdentity(n).ToRowMajorArray();

    [Fact]
    public void SvdMatchesMathNetAndReconstructs()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = Randn(1, 5, 3);
        var (u, s, vh) = linalg.svd(a, full_matrices: false);
        Assert.Equal([5L, 3], u.shape);
        Assert.Equal([3L], s.shape);
        Assert.Equal([3L, 3], vh.shape);

        AssertClose(ToMatrix(a).Svd().S.ToArray(), s, Tol);
        AssertClose(a.ToArray<double>(), (u * s).mm(vh), Tol);
        AssertClose(Identity(3), u.mT.mm(u), Tol);
        AssertClose(Identity(3), vh.mm(vh.mT), Tol);
    }

    [Fact]
    public void FullSvdHasSquareOrthogonalFactors()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = Randn(2, 2, 4);
        var (u, s, vh) = linalg.svd(a);
        Assert.Equal([2L, 2], u.shape);
        Assert.Equal([4L, 4], vh.shape);
        AssertClose(Identity(2), u.mm(u.mT), Tol);
        AssertClose(Identity(4), vh.mT.mm(vh), Tol);
        // A = U·[diag(S) 0]·Vh: only the first two rows of Vh take part.
        AssertClose(a.ToArray<double>(), (u * s).mm(vh.narrow(0, 0, 2)), Tol);
    }

    [Fact]
    public void SvdvalsAreBatchedAndDescending()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = Randn(3, 2, 3, 4);
        double[] values = linalg.svdvals(a).ToArray<double>();
        for (int b = 0; b < 2; b++)
        {
            double[] expected = ToMatrix(a[b]).Svd(computeVectors: false).S.ToArray();
            AssertClose(expected, values.Skip(3 * b).Take(3).ToArray(), Tol);
        }
    }

    [Fact]
    public void QrIsOrthonormalTimesUpperTriangular()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = Randn(4, 5, 3);
        var (q, r) = linalg.qr(a);
        Assert.Equal([5L, 3], q.shape);
        AssertClose(Identity(3), q.mT.mm(q), Tol);
        AssertClose(a.ToArray<double>(), q.mm(r), Tol);
        Matrix<double> rm = ToMatrix(r);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < i; j++) Assert.Equal(0.0, rm[i, j]);
        // R is unique up to the signs of its rows.
        Matrix<double> expected = ToMatrix(a).QR().R;
        for (int i = 0; i < 3; i++) Assert.Equal(Math.Abs(expected[i, i]), Math.Abs(rm[i, i]), 10);
        Assert.Equal([5L, 5], linalg.qr(a, "complete").Q.shape);
    }

    [Fact]
    public void EighMatchesMathNetForSymmetricInput()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(5, 4, 4);
        Tensor sym = (x + x.mT) / 2;
        var (values, vectors) = linalg.eigh(sym);
        double[] expected = ToMatrix(sym).Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).Order().ToArray();
        AssertClose(expected, values, Tol);
        AssertClose(sym.mm(vectors).ToArray<double>(), vectors * values, Tol);
        AssertClose(Identity(4), vectors.mT.mm(vectors), Tol);
        // Only the named triangle is read.
        AssertClose(values.ToArray<double>(), linalg.eigh(sym.triu(), "U").eigenvalues, Tol);
    }

    [Fact]
    public void EigvalshIsEighsEigenvaluesAndReadsOneTriangle()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(7, 3, 5, 5);
        Tensor sym = (x + x.mT) / 2;
        for (int b = 0; b < 3; b++)
            AssertClose(ToMatrix(sym[b]).Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).Order().ToArray(), linalg.eigvalsh(sym)[b], Tol);
        AssertClose(linalg.eigvalsh(sym).ToArray<double>(), linalg.eigvalsh(sym.triu(), "U"), Tol);
        AssertClose(linalg.eigvalsh(sym).ToArray<double>(), linalg.eigvalsh(sym.tril()), Tol);
    }

    [Fact]
    public void MatrixNormsMatchTheirDefinitions()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = Randn(6, 3, 4);
        Matrix<double> m = ToMatrix(a);
        double[] sv = m.Svd(computeVectors: false).S.ToArray();
        double[] colSums = Enumerable.Range(0, 4).Select(j => m.Column(j).L1Norm()).ToArray();
        double[] rowSums = Enumerable.Range(0, 3).Select(i => m.Row(i).L1Norm()).ToArray();

        Assert.Equal(Math.Sqrt(a.ToArray<double>().Sum(v => v * v)), linalg.matrix_norm(a).item<double>(), 12);
        Assert.Equal(sv.Sum(), linalg.matrix_norm(a, "nuc").item<double>(), 10);
        Assert.Equal(m.L2Norm(), linalg.matrix_norm(a, 2).item<double>(), 10);
        Assert.Equal(sv.Min(), linalg.matrix_norm(a, -2).item<double>(), 10);
        Assert.Equal(colSums.Max(), linalg.matrix_norm(a, 1).item<double>(), 12);
        Assert.Equal(colSums.Min(), linalg.matrix_norm(a, -1).item<double>(), 12);
        Assert.Equal(rowSums.Max(), linalg.matrix_norm(a, double.PositiveInfinity).item<double>(), 12);
        Assert.Equal(rowSums.Min(), linalg.matrix_norm(a, double.NegativeInfinity).item<double>(), 12);
    }

    [Fact]
    public void VectorNormsMatchTheirDefinitions()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(7, 2, 3);
        double[] v = x.ToArray<double>();
        Assert.Equal(Math.Sqrt(v.Sum(e => e * e)), linalg.vector_norm(x).item<double>(), 12);
        Assert.Equal(Math.Pow(v.Sum(e => Math.Pow(Math.Abs(e), 3)), 1.0 / 3), linalg.vector_norm(x, 3).item<double>(), 12);
        Assert.Equal(v.Max(Math.Abs), linalg.vector_norm(x, double.PositiveInfinity).item<double>(), 12);
        double[] rowL1 = [v.Take(3).Sum(Math.Abs), v.Skip(3).Sum(Math.Abs)];
        AssertClose(rowL1, linalg.vector_norm(x, 1, [1]), Tol);
        Assert.Equal([2L, 1], linalg.vector_norm(x, 1, [1], keepdim: true).shape);
    }

    [Fact]
    public void DeterminantAndSlogdetAgreeWithMathNet()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = Randn(8, 4, 4);
        double det = ToMatrix(a).Determinant();
        Assert.Equal(det, linalg.det(a).item<double>(), 10);
        var (sign, logabs) = linalg.slogdet(a);
        Assert.Equal(Math.Sign(det), sign.item<double>());
        Assert.Equal(Math.Log(Math.Abs(det)), logabs.item<double>(), 10);
    }

    [Fact]
    public void PinvMatchesMathNetAndIsALeftInverse()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = Randn(9, 5, 3);
        Tensor p = linalg.pinv(a);
        AssertClose(ToMatrix(a).PseudoInverse().ToRowMajorArray(), p, 1e-9);
        AssertClose(Identity(3), p.mm(a), 1e-9);
    }

    [Fact]
    public void MatrixRankCountsIndependentDirections()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor lowRank = Randn(10, 6, 2).mm(Randn(11, 2, 5));
        Assert.Equal(2L, linalg.matrix_rank(lowRank).item<long>());
        Assert.Equal(5L, linalg.matrix_rank(Randn(12, 6, 5)).item<long>());
        // A tolerance above the smallest singular value drops it.
        double smallest = linalg.svdvals(lowRank).ToArray<double>()[1];
        Assert.Equal(1L, linalg.matrix_rank(lowRank, atol: smallest * 1.01).item<long>());
        Tensor symmetric = lowRank.mm(lowRank.mT);
        Assert.Equal(2L, linalg.matrix_rank(symmetric, hermitian: true).item<long>());
    }
}
