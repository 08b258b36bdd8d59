using MathNet.Numerics.LinearAlgebra;

namespace LowRankBias.Torch.Tests;

/// <summary>
/// Deterministic float64 test inputs drawn from System.Random, so tests neither depend on nor disturb libtorch's
/// global generator; and conversions between tensors and MathNet matrices (the float64 oracle).
/// </summary>
public static class TestData
{
    /// <summary>
    /// Live native tensors once the tensors earlier tests dropped to the GC have been finalised: a baseline that a
    /// finalizer running in the middle of the measurement cannot move.
    /// </summary>
    public static long SettledLiveCount()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Tensor.LiveCount;
    }

    /// <summary><paramref name="count"/> standard normal samples (Box–Muller) from a seeded System.Random.</summary>
    public static double[] Normal(int seed, long count)
    {
        var rng = new Random(seed);
        var values = new double[count];
        for (long i = 0; i < count; i++)
            values[i] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        return values;
    }

    /// <summary>A float64 tensor of standard normal samples.</summary>
    public static Tensor Randn(int seed, params long[] shape) => tensor(Normal(seed, Count(shape)), shape);

    /// <summary>A float64 tensor of samples uniform in [low, high).</summary>
    public static Tensor Uniform(int seed, double low, double high, params long[] shape)
    {
        var rng = new Random(seed);
        var values = new double[Count(shape)];
        for (int i = 0; i < values.Length; i++) values[i] = low + (high - low) * rng.NextDouble();
        return tensor(values, shape);
    }

    /// <summary>A 2-D float64 tensor as a MathNet matrix.</summary>
    public static Matrix<double> ToMatrix(Tensor t)
    {
        Assert.Equal(2, t.dim());
        long[] s = t.shape;
        double[] flat = t.ToArray<double>();
        return Matrix<double>.Build.Dense((int)s[0], (int)s[1], (i, j) => flat[i * s[1] + j]);
    }

    /// <summary>A MathNet matrix as a 2-D float64 tensor.</summary>
    public static Tensor FromMatrix(Matrix<double> m) => tensor(m.ToRowMajorArray(), [m.RowCount, m.ColumnCount]);

    /// <summary>Asserts elementwise |expected − actual| ≤ tolerance, naming the first offending index.</summary>
    public static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"element {i}: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tolerance})");
    }

    /// <summary>Asserts a tensor's float64 values match <paramref name="expected"/> within tolerance.</summary>
    public static void AssertClose(double[] expected, Tensor actual, double tolerance = 1e-10)
    {
        using Tensor asDouble = actual.to(ScalarType.Float64);
        AssertClose(expected, asDouble.ToArray<double>(), tolerance);
    }

    private static long Count(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);
}
