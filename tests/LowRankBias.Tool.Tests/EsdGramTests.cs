using LowRankBias.Tool.Analysis;

namespace LowRankBias.Tool.Tests;

/// <summary>
/// The ESD's two routes (<see cref="Esd.SquaredSingularValues"/>): the Gram eigenvalues for matrices that resolve their
/// smallest σ, the SVD for the others, checked against matrices built as Q₁·diag(σ)·Q₂ᵀ with known σ (closed form).
/// </summary>
public class EsdGramTests
{
    private const double Epsilon = 2.220446049250313e-16;

    // rows × cols with singular values `sigma` (the matrix's own rounding moves them by about ε·σmax).
    private static Tensor WithSingularValues(int seed, int rows, int cols, double[] sigma)
    {
        var random = new Random(seed);
        Tensor Orthonormal(int n, int k) =>
            linalg.qr(tensor(Enumerable.Range(0, n * k).Select(_ => random.NextDouble() - 0.5).ToArray(), [n, k])).Q;
        int m = Math.Min(rows, cols);
        return (Orthonormal(rows, m) * tensor(sigma)).matmul(Orthonormal(cols, m).mT); // columns scaled: Q₁·diag(σ)
    }

    private static double[] Geometric(int count, double from, double to) =>
        Enumerable.Range(0, count).Select(i => from * Math.Pow(to / from, i / (count - 1.0))).ToArray();

    private static void AssertRelative(IEnumerable<double> expected, double[] actual, double tolerance)
    {
        double[] e = expected.Order().ToArray();
        Assert.Equal(e.Length, actual.Length);
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(actual[i] - e[i]) <= tolerance * e[i], $"λ{i}: expected {e[i]:R}, got {actual[i]:R}");
    }

    [Fact]
    public void WellConditionedWideMatricesKeepEveryEigenvalue()
    {
        // λmin/λmax 100× above the Gram floor, on WWᵀ (rows < cols): every eigenvalue to 1e-7 relative.
        using var scope = NewDisposeScope();
        const int rows = 60, cols = 120;
        double ratio = Math.Sqrt(100 * Esd.GramFloor * cols * Epsilon);
        double[] a = Geometric(rows, 3, 3 * ratio), b = Geometric(rows, 0.5, 0.5 * ratio).Reverse().ToArray();
        Tensor matrices = stack([WithSingularValues(1, rows, cols, a), WithSingularValues(2, rows, cols, b)]);
        double[] evals = Esd.SquaredSingularValues(matrices, "wide", out int rankLoss);
        AssertRelative(a.Concat(b).Select(s => s * s), evals, 1e-7);
        Assert.Equal(0, rankLoss);
    }

    [Fact]
    public void MatricesBelowTheGramFloorAreResolvedByTheSvd()
    {
        // A batch of three 120 × 60: well-conditioned, rank-deficient (σ = 0: one rank loss) and σmin = 10⁻⁹ σmax. The
        // Gram would put the two smallest λ near its rounding, 10¹⁵× too large; only the SVD resolves them.
        using var scope = NewDisposeScope();
        const int rows = 120, cols = 60;
        double[] well = Geometric(cols, 2, 0.1), deficient = [.. Geometric(cols - 1, 1, 0.5), 0], tiny = [.. Geometric(cols - 1, 1, 0.3), 1e-9];
        Tensor matrices = stack([WithSingularValues(3, rows, cols, well), WithSingularValues(4, rows, cols, deficient), WithSingularValues(5, rows, cols, tiny)]);
        double[] evals = Esd.SquaredSingularValues(matrices, "tall", out int rankLoss);
        Assert.Equal(1, rankLoss);
        Assert.True(evals[0] < 1e-28, $"λ of σ = 0: {evals[0]:R}");
        AssertRelative(well.Concat(deficient.SkipLast(1)).Concat(tiny).Select(s => s * s), evals[1..], 1e-5);
    }
}
