using System.Text.Json;
using LowRankBias.Spectral;

namespace LowRankBias.Tests.Spectral;

/// <summary>
/// The metrics against numbers printed by tests/fixtures/reference/make_metric_references.py, an independent float64
/// re-derivation (with python3-torch) of platonic-rep's <c>compute_score</c> + <c>AlignmentMetrics</c> and of the
/// <c>powerlaw</c> package's <c>Fit</c>.
/// </summary>
public class PlatonicReferenceTests
{
    internal static JsonElement References { get; } = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "reference", "metric_references.json"))).RootElement;

    public static TheoryData<string> AlignmentCases() => new(References.GetProperty("alignment").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    public static TheoryData<string> PowerLawCases() => new(References.GetProperty("power_law").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    private static JsonElement Case(string section, string name) =>
        References.GetProperty(section).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static Tensor Matrix(JsonElement rows)
    {
        double[][] values = rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        return tensor(values.SelectMany(r => r).ToArray(), [values.Length, values[0].Length]);
    }

    [Theory]
    [MemberData(nameof(AlignmentCases))]
    public void AlignmentMatchesPlatonicRep(string name)
    {
        using var scope = NewDisposeScope();
        JsonElement c = Case("alignment", name);
        Tensor x = Matrix(c.GetProperty("x")), y = Matrix(c.GetProperty("y"));
        int k = c.GetProperty("topk").GetInt32();
        double Expected(string metric) => c.GetProperty(metric).GetDouble();

        Assert.Equal(Expected("mutual_knn"), RepresentationAlignment.MutualKnn(x, y, k), 12);
        Assert.Equal(Expected("cycle_knn_xy"), RepresentationAlignment.CycleKnn(x, y, k), 12);
        Assert.Equal(Expected("cycle_knn_yx"), RepresentationAlignment.CycleKnn(y, x, k), 12);
        Assert.Equal(Expected("cka"), RepresentationAlignment.LinearCka(x, y), 12);
        Assert.Equal(Expected("unbiased_cka"), RepresentationAlignment.UnbiasedCka(x, y), 12);
        Assert.Equal(Expected("cknna"), RepresentationAlignment.Cknna(x, y, k), 12);
    }

    [Fact]
    public void TheFixtureSeparatesTheConventions()
    {
        using var scope = NewDisposeScope();
        JsonElement c = Case("alignment", "rows rescaled");
        Tensor x = Matrix(c.GetProperty("x")), y = Matrix(c.GetProperty("y"));
        // Rescaling single samples changes the thesis forms but not platonic-rep's (rows are normalised first), and the
        // cycle's direction matters.
        Assert.True(Math.Abs(c.GetProperty("cka").GetDouble() - RepresentationAlignment.LinearCka(x, y, AlignmentConvention.Thesis)) > 1e-3);
        Assert.True(Math.Abs(c.GetProperty("cknna").GetDouble() - RepresentationAlignment.Cknna(x, y, 6, convention: AlignmentConvention.Thesis)) > 1e-3);
        Assert.NotEqual(c.GetProperty("cycle_knn_xy").GetDouble(), c.GetProperty("cycle_knn_yx").GetDouble());
    }

    [Theory]
    [MemberData(nameof(PowerLawCases))]
    public void PowerLawFitMatchesThePowerlawPackage(string name)
    {
        JsonElement c = Case("power_law", name);
        double[] values = c.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        foreach ((string convention, KsConvention ks) in new[] { ("powerlaw", KsConvention.Powerlaw), ("two_sided", KsConvention.TwoSided) })
        {
            JsonElement expected = c.GetProperty(convention);
            PowerLawFit fit = PowerLawFit.Fit(values, minTailCount: 2, ks)!;   // powerlaw tries every distinct value but the largest
            Assert.Equal(expected.GetProperty("xmin").GetDouble(), fit.XMin);
            Assert.Equal(expected.GetProperty("tail").GetInt32(), fit.TailCount);
            Assert.Equal(expected.GetProperty("alpha").GetDouble(), fit.Alpha, 10);
            Assert.Equal(expected.GetProperty("ks").GetDouble(), fit.KsDistance, 10);
        }
        Assert.NotEqual(c.GetProperty("powerlaw").GetProperty("xmin").GetDouble(), c.GetProperty("two_sided").GetProperty("xmin").GetDouble());
        Assert.Equal(PowerLawFit.Fit(values, 2, KsConvention.Powerlaw), PowerLawFit.Fit(values, 2));   // the default
    }
}
