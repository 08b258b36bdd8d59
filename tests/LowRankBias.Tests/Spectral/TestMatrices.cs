using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace LowRankBias.Tests.Spectral;

/// <summary>Seeded random matrices built with MathNet (the independent float64 truth) and conversions to tensors.</summary>
internal static class TestMatrices
{
    public static Matrix<double> Gaussian(int rows, int cols, int seed) =>
        Matrix<double>.Build.Random(rows, cols, new Normal(0, 1, new Random(seed)));

    /// <summary>U diag(s) Vᵀ with random orthonormal U [rows, r] and V [cols, r], r = s.Length.</summary>
    public static Matrix<double> WithSpectrum(int rows, int cols, double[] s, int seed)
    {
        Matrix<double> u = Gaussian(rows, s.Length, seed).QR().Q.SubMatrix(0, rows, 0, s.Length);
        Matrix<double> v = Gaussian(cols, s.Length, seed + 1).QR().Q.SubMatrix(0, cols, 0, s.Length);
        return u * Matrix<double>.Build.DiagonalOfDiagonalArray(s) * v.Transpose();
    }

    public static double[] SingularValues(Matrix<double> m) => m.Svd(computeVectors: false).S.ToArray();

    public static Tensor ToTensor(Matrix<double> m, ScalarType dtype = ScalarType.Float64)
    {
        using Tensor t = tensor(m.ToRowMajorArray(), [m.RowCount, m.ColumnCount]);
        return t.to(dtype);
    }

    /// <summary>Equally shaped matrices as one [count, rows, cols] float64 tensor.</summary>
    public static Tensor Stack(params Matrix<double>[] ms) =>
        tensor(ms.SelectMany(m => m.ToRowMajorArray()).ToArray(), [ms.Length, ms[0].RowCount, ms[0].ColumnCount]);

    public static Matrix<double> ToMatrix(Tensor t)
    {
        using Tensor d = t.to(ScalarType.Float64);
        using Tensor c = d.contiguous();
        return Matrix<double>.Build.DenseOfRowMajor((int)t.size(0), (int)t.size(1), c.ToArray<double>());
    }

    /// <summary>−Σ p ln p of p = w / Σw, computed by hand for the tests.</summary>
    public static double Entropy(IEnumerable<double> weights)
    {
        double[] w = weights.ToArray();
        double total = w.Sum();
        return -w.Where(v => v > 0).Sum(v => v / total * Math.Log(v / total));
    }

    public static void Close(double expected, double actual, double relative, string what = "")
    {
        double tolerance = relative * Math.Max(1, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (tolerance {tolerance:G3})");
    }
}
