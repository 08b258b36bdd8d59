using LowRankBias.Spectral;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public class RepresentationAlignmentTests
{
    private static Matrix<double> RotatedAndScaled(Matrix<double> x, double scale, int seed) => scale * x * Gaussian(x.ColumnCount, x.ColumnCount, seed).QR().Q;

    private static Matrix<double> RowsShuffled(Matrix<double> x, int seed)
    {
        int[] order = Enumerable.Range(0, x.RowCount).ToArray();
        new Random(seed).Shuffle(order);
        return Matrix<double>.Build.DenseOfRowVectors(order.Select(x.Row));
    }

    // Indices of row i's k nearest other rows, by sorting (the brute-force truth for the top-k based code).
    private static HashSet<int>[] Neighbours(Matrix<double> x, int k, KnnMetric metric) =>
        Enumerable.Range(0, x.RowCount).Select(i => Enumerable.Range(0, x.RowCount).Where(j => j != i)
            .OrderBy(j => metric == KnnMetric.Euclidean
                ? (x.Row(i) - x.Row(j)).L2Norm()
                : -(x.Row(i) * x.Row(j)) / (x.Row(i).L2Norm() * x.Row(j).L2Norm()))
            .Take(k).ToHashSet()).ToArray();

    [Theory]
    [InlineData(KnnMetric.Cosine)]
    [InlineData(KnnMetric.Euclidean)]
    public void MutualKnnIsOneForARotatedScaledCopyAndSmallForAShuffledOne(KnnMetric metric)
    {
        using var scope = NewDisposeScope();
        Matrix<double> x = Gaussian(200, 8, seed: 41);
        Assert.Equal(1, RepresentationAlignment.MutualKnn(ToTensor(x), ToTensor(RotatedAndScaled(x, 3.5, 42)), metric: metric), 9);
        double shuffled = RepresentationAlignment.MutualKnn(ToTensor(x), ToTensor(RowsShuffled(x, 43)), metric: metric);
        Assert.InRange(shuffled, 0, 0.15); // chance level k/(n−1) ≈ 0.05
    }

    [Theory]
    [InlineData(KnnMetric.Cosine)]
    [InlineData(KnnMetric.Euclidean)]
    public void KnnMetricsMatchBruteForceNeighbourSets(KnnMetric metric)
    {
        using var scope = NewDisposeScope();
        Matrix<double> x = Gaussian(30, 4, seed: 44), y = x + 0.8 * Gaussian(30, 4, seed: 45);
        const int k = 5;
        HashSet<int>[] nx = Neighbours(x, k, metric), ny = Neighbours(y, k, metric);
        double mutual = Enumerable.Range(0, 30).Average(i => nx[i].Intersect(ny[i]).Count() / (double)k);
        double cycle = Enumerable.Range(0, 30).Average(i => ny[i].Any(j => nx[j].Contains(i)) ? 1.0 : 0.0); // Y → X, platonic-rep's order
        Close(mutual, RepresentationAlignment.MutualKnn(ToTensor(x), ToTensor(y), k, metric), 1e-12, "mutual k-NN");
        Close(cycle, RepresentationAlignment.CycleKnn(ToTensor(x), ToTensor(y), k, metric), 1e-12, "cycle k-NN");
        Assert.True(mutual is > 0.1 and < 0.95, $"a non-trivial case: {mutual}");
    }

    [Fact]
    public void LinearCkaMatchesTheHsicDefinitionAndIsInvariant()
    {
        using var scope = NewDisposeScope();
        Matrix<double> x = Gaussian(25, 6, seed: 46), y = x.SubMatrix(0, 25, 0, 3) * Gaussian(3, 4, seed: 47) + 0.5 * Gaussian(25, 4, seed: 48);
        // eqs. 6.5–6.6 with double-centred linear kernels H K H
        Matrix<double> h = Matrix<double>.Build.DenseIdentity(25) - Matrix<double>.Build.Dense(25, 25, 1.0 / 25);
        Matrix<double> kc = h * x * x.Transpose() * h, lc = h * y * y.Transpose() * h;
        double Hsic(Matrix<double> a, Matrix<double> b) => (a * b).Trace();
        double expected = Hsic(kc, lc) / Math.Sqrt(Hsic(kc, kc) * Hsic(lc, lc));
        Close(expected, RepresentationAlignment.LinearCka(ToTensor(x), ToTensor(y), AlignmentConvention.Thesis), 1e-10, "CKA");

        Close(1, RepresentationAlignment.LinearCka(ToTensor(x), ToTensor(RotatedAndScaled(x, 0.2, 49)), AlignmentConvention.Thesis), 1e-10, "rotated and scaled");
        Close(expected, RepresentationAlignment.LinearCka(ToTensor(x + 5), ToTensor(RotatedAndScaled(y, 7, 50)), AlignmentConvention.Thesis), 1e-10, "invariance");
        Assert.InRange(RepresentationAlignment.LinearCka(ToTensor(Gaussian(400, 3, 51)), ToTensor(Gaussian(400, 3, 52)), AlignmentConvention.Thesis), 0, 0.1);
    }

    [Fact]
    public void UnbiasedCkaMatchesTheUStatisticOverDistinctQuadruples()
    {
        using var scope = NewDisposeScope();
        const int n = 7;
        Matrix<double> x = Gaussian(n, 3, seed: 53), y = x * Gaussian(3, 2, seed: 54) + Gaussian(n, 2, seed: 55);
        Matrix<double> Centre(Matrix<double> f) => f - Matrix<double>.Build.Dense(n, 1, 1) * (Matrix<double>.Build.Dense(1, n, 1.0 / n) * f);
        Matrix<double> kx = Centre(x) * Centre(x).Transpose(), ky = Centre(y) * Centre(y).Transpose();
        // HSIC₁ is the U-statistic of h(i, j, q, r) = K_ij L_ij + K_ij L_qr − 2 K_ij L_iq over ordered distinct quadruples
        double UStatistic(Matrix<double> k, Matrix<double> l)
        {
            double sum = 0;
            int count = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) for (int q = 0; q < n; q++) for (int r = 0; r < n; r++)
            {
                if (i == j || i == q || i == r || j == q || j == r || q == r) continue;
                sum += k[i, j] * l[i, j] + k[i, j] * l[q, r] - 2 * k[i, j] * l[i, q];
                count++;
            }
            return sum / count;
        }
        double expected = UStatistic(kx, ky) / Math.Sqrt(UStatistic(kx, kx) * UStatistic(ky, ky));
        Close(expected, RepresentationAlignment.UnbiasedCka(ToTensor(x), ToTensor(y), AlignmentConvention.Thesis), 1e-10, "unbiased CKA");
        Close(1, RepresentationAlignment.UnbiasedCka(ToTensor(x), ToTensor(RotatedAndScaled(x, 4, 56)), AlignmentConvention.Thesis), 1e-10, "rotated and scaled");
        Assert.Throws<ArgumentException>(() => RepresentationAlignment.UnbiasedCka(ones([3, 2]), ones([3, 2])));
    }

    [Fact]
    public void CknnaMatchesItsDefinitionAndIsOneForAnAlignedCopy()
    {
        using var scope = NewDisposeScope();
        const int n = 20, k = 4;
        Matrix<double> x = Gaussian(n, 5, seed: 57), y = x + 0.7 * Gaussian(n, 5, seed: 58);
        Matrix<double> Cosine(Matrix<double> f) => f.NormalizeRows(2) * f.NormalizeRows(2).Transpose();
        Matrix<double> kx = Cosine(x), ky = Cosine(y);
        HashSet<int>[] nx = Neighbours(x, k, KnnMetric.Cosine), ny = Neighbours(y, k, KnnMetric.Cosine);
        double Centred(Matrix<double> m, int i, int j) => m[i, j] - m.Row(i).Average();
        double Align(Matrix<double> a, Matrix<double> b, Func<int, int, bool> alpha) =>
            Enumerable.Range(0, n).Sum(i => Enumerable.Range(0, n).Where(j => alpha(i, j)).Sum(j => Centred(a, i, j) * Centred(b, i, j)));
        double expected = Align(kx, ky, (i, j) => nx[i].Contains(j) && ny[i].Contains(j))
            / Math.Sqrt(Align(kx, kx, (i, j) => nx[i].Contains(j)) * Align(ky, ky, (i, j) => ny[i].Contains(j)));
        Close(expected, RepresentationAlignment.Cknna(ToTensor(x), ToTensor(y), k, convention: AlignmentConvention.Thesis), 1e-10, "CKNNA");

        Close(1, RepresentationAlignment.Cknna(ToTensor(x), ToTensor(RotatedAndScaled(x, 2, 59)), k, convention: AlignmentConvention.Thesis), 1e-10, "cosine kernel");
        Close(1, RepresentationAlignment.Cknna(ToTensor(x), ToTensor(RotatedAndScaled(x, 2, 59)), k, GramKernel.Linear, AlignmentConvention.Thesis), 1e-10, "linear kernel");
        Assert.InRange(RepresentationAlignment.Cknna(ToTensor(Gaussian(200, 8, 60)), ToTensor(Gaussian(200, 8, 61)), convention: AlignmentConvention.Thesis), -0.2, 0.2);
        // platonic-rep's form: 1 up to its ε for an aligned copy, and it differs from the thesis form on the same data
        Close(1, RepresentationAlignment.Cknna(ToTensor(x), ToTensor(RotatedAndScaled(x, 2, 59)), k), 1e-4, "platonic, aligned copy");
        Assert.True(Math.Abs(expected - RepresentationAlignment.Cknna(ToTensor(x), ToTensor(y), k)) > 1e-3, "the two conventions are different numbers");
    }

    [Fact]
    public void ThesisSvccaIsOneForAnInvertibleMapAndMatchesMathNet()
    {
        using var scope = NewDisposeScope();
        Matrix<double> x = Gaussian(60, 4, seed: 62);
        Close(1, RepresentationAlignment.Svcca(ToTensor(x), ToTensor(x * Gaussian(4, 4, seed: 63) + 2), convention: AlignmentConvention.Thesis), 1e-10, "invertible map");

        Matrix<double> y = x * Gaussian(4, 6, seed: 64) + 0.5 * Gaussian(60, 6, seed: 65);
        (Matrix<double> U, double[] Energy) Directions(Matrix<double> f)
        {
            Matrix<double> c = f - Matrix<double>.Build.Dense(60, 1, 1) * (Matrix<double>.Build.Dense(1, 60, 1.0 / 60) * f);
            var svd = c.Svd();
            return (svd.U, svd.S.Select(v => v * v).ToArray());
        }
        int Kept((Matrix<double> U, double[] Energy) d, double fraction)
        {
            int keep = 0;
            for (double covered = 0; covered < fraction * d.Energy.Sum(); keep++) covered += d.Energy[keep];
            return keep;
        }
        double MeanCorrelation((Matrix<double> U, double[] Energy) a, int ka, (Matrix<double> U, double[] Energy) b, int kb) =>
            (a.U.SubMatrix(0, 60, 0, ka).Transpose() * b.U.SubMatrix(0, 60, 0, kb)).Svd(false).S.Average();
        var dx = Directions(x);
        var dy = Directions(y);

        Close(MeanCorrelation(dx, 3, dy, 3), RepresentationAlignment.Svcca(ToTensor(x), ToTensor(y), directions: 3, convention: AlignmentConvention.Thesis), 1e-10, "3 directions each");
        int kx = Kept(dx, 0.9), ky = Kept(dy, 0.9);
        Assert.True(kx != ky || kx < 4, "the variance rule should matter here");
        Close(MeanCorrelation(dx, kx, dy, ky), RepresentationAlignment.Svcca(ToTensor(x), ToTensor(y), varianceKept: 0.9, convention: AlignmentConvention.Thesis), 1e-10, "90% of the variance");
        Assert.InRange(RepresentationAlignment.Svcca(ToTensor(Gaussian(500, 3, 66)), ToTensor(Gaussian(500, 3, 67)), convention: AlignmentConvention.Thesis), 0, 0.2);
    }

    [Fact]
    public void BadFeatureSetsThrow()
    {
        using var scope = NewDisposeScope();
        Assert.Contains("same samples", Assert.Throws<ArgumentException>(() => RepresentationAlignment.MutualKnn(ones([10, 3]), ones([9, 3]))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => RepresentationAlignment.MutualKnn(randn([10, 3]), randn([10, 3]), k: 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => RepresentationAlignment.CycleKnn(randn([10, 3]), randn([10, 3]), k: 0));
        Assert.Throws<ArgumentException>(() => RepresentationAlignment.LinearCka(ones([10]), ones([10, 3])));
        Assert.Throws<ArgumentException>(() => RepresentationAlignment.Cknna(randn([10, 3]) / 0.0, randn([10, 3]), 3));
        Assert.Throws<ArgumentException>(() => RepresentationAlignment.Svcca(ones([10, 3]), randn([10, 3])));
    }
}
