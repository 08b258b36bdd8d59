using LowRankBias.Spectral;
using LowRankBias.Torch.IO;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

/// <summary>
/// lcs_knn, edit_distance_knn, RBF CKA and platonic-rep's SVCCA against tests/fixtures/platonic/make_metrics.py, a
/// float64 python3-torch re-derivation of platonic-rep's metrics.py (after compute_score's row normalisation).
/// </summary>
public class PlatonicMetricsTests
{
    internal const int TopK = 5;   // make_metrics.py's TOPK

    internal static readonly Lazy<Dictionary<string, Tensor>> Fixture = new(() =>
    {
        var tensors = SafeTensors.load_file(Path.Combine(AppContext.BaseDirectory, "fixtures", "platonic", "metrics.safetensors"));
        foreach (Tensor t in tensors.Values) t.DetachFromDisposeScope();
        return tensors;
    });

    private static double Expected(string key) => Fixture.Value[key].item<double>();

    [Theory]
    [InlineData("related")]
    [InlineData("unrelated")]
    public void MetricsMatchPlatonicRep(string name)
    {
        Tensor x = Fixture.Value[$"{name}.x"], y = Fixture.Value[$"{name}.y"];
        Assert.Equal(Expected($"{name}.lcs_knn"), RepresentationAlignment.LcsKnn(x, y, TopK), 1e-9);
        Assert.Equal(Expected($"{name}.edit_distance_knn"), RepresentationAlignment.EditDistanceKnn(x, y, TopK), 1e-9);
        Assert.Equal(Expected($"{name}.rbf_cka"), RepresentationAlignment.RbfCka(x, y), 1e-9);
        Assert.Equal(Expected($"{name}.rbf_cka_half"), RepresentationAlignment.RbfCka(x, y, sigma: 0.5), 1e-9);
        Assert.Equal(Expected($"{name}.rbf_unbiased_cka"), RepresentationAlignment.RbfCka(x, y, unbiased: true), 1e-9);
        Assert.Equal(Expected($"{name}.svcca"), RepresentationAlignment.Svcca(x, y), 1e-9);
        Assert.Equal(Expected($"{name}.svcca_3"), RepresentationAlignment.Svcca(x, y, directions: 3), 1e-9);
    }

    [Fact]
    public void OrderedMetricsAreExactForARotatedCopyAndSeeOrderThatMutualKnnDoesNot()
    {
        using var scope = NewDisposeScope();
        var x = Gaussian(60, 6, seed: 81);
        Tensor a = ToTensor(x), rotated = ToTensor(3 * x * Gaussian(6, 6, seed: 82).QR().Q);
        Assert.Equal(6, RepresentationAlignment.LcsKnn(a, rotated, 6), 9);            // the same lists in the same order
        Assert.Equal(1, RepresentationAlignment.EditDistanceKnn(a, rotated, 6), 9);
        // k = n − 1: every list holds all other samples, so mutual k-NN is 1 whatever the order; the order metrics are not.
        Tensor other = ToTensor(Gaussian(60, 6, seed: 83));
        Assert.Equal(1, RepresentationAlignment.MutualKnn(a, other, 59), 9);
        Assert.True(RepresentationAlignment.LcsKnn(a, other, 59) < 30);
        Assert.True(RepresentationAlignment.EditDistanceKnn(a, other, 59) < 0.5);
    }

    [Fact]
    public void RbfCkaOfAnIsometryIsOneUpToEpsilon()
    {
        using var scope = NewDisposeScope();
        var x = Gaussian(40, 5, seed: 84);
        double cka = RepresentationAlignment.RbfCka(ToTensor(x), ToTensor(x * Gaussian(5, 5, seed: 85).QR().Q));
        Assert.Equal(1, cka, 1e-5);   // distances, hence kernels, are unchanged; only the 1e-6 shifts it
        Assert.True(cka < 1);
    }

    [Fact]
    public void BadInputNamesTheArgument()
    {
        using var scope = NewDisposeScope();
        Tensor x = randn([10, 3]), y = randn([10, 4]);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => RepresentationAlignment.LcsKnn(x, randn([9, 3]))).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => RepresentationAlignment.EditDistanceKnn(x, y, k: 10)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => RepresentationAlignment.LcsKnn(x / 0.0, y, 3)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => RepresentationAlignment.RbfCka(x, y.narrow(0, 0, 8))).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => RepresentationAlignment.RbfCka(x, y, sigma: 0)).ParamName);
        Assert.Equal("varianceKept", Assert.Throws<ArgumentException>(() => RepresentationAlignment.Svcca(x, y, varianceKept: 0.9)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => RepresentationAlignment.Svcca(x, y * double.PositiveInfinity)).ParamName);
    }
}
