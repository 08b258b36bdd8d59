using System.Text.Json;
using LowRankBias.Tool.Analysis;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Tool.Tests;

/// <summary>
/// `lowrankbias analyze` against WeightWatcher's metrics of fixed weights (a Gaussian, a heavy-tailed, a square, a
/// convolution, a spiked and a rank-deficient matrix), computed by tests/fixtures/weightwatcher/make_ww.py, a numpy re-implementation of
/// weightwatcher.py / RMT_Util.py / WW_powerlaw.py with WeightWatcher's analyze() defaults.
/// </summary>
public class AnalyzeToolTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "weightwatcher", name);

    private static readonly JsonElement s_expected = JsonDocument.Parse(File.ReadAllText(Fixture("ww_expected.json"))).RootElement;

    private static void Close(double expected, double actual, string what)
    {
        double tolerance = 1e-6 * Math.Max(1, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected:R}, got {actual:R}");
    }

    [Fact]
    public void EveryLayerMetricAndTheSummaryAreWeightWatchers()
    {
        using var dir = new TempDirectory();
        Assert.Equal(0, AnalyzeCommand.Run(Fixture("ww_input.pt"), dir.Path, new AnalyzeCommand.Options()));

        using var json = JsonDocument.Parse(File.ReadAllText(dir.File("details.json")));
        var details = json.RootElement.GetProperty("details").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
        var expected = s_expected.GetProperty("layers").EnumerateArray().ToList();
        // tiny.weight (M·rf = 3 < min_evals) and norm.weight (1-D) are not analysed.
        Assert.Equal(expected.Select(l => l.GetProperty("name").GetString()).Order(), details.Keys.Order());
        foreach (JsonElement layer in expected)
        {
            string name = layer.GetProperty("name").GetString()!;
            foreach (JsonProperty metric in layer.EnumerateObject().Where(p => p.Name != "name"))
                Close(metric.Value.GetDouble(), details[name].GetProperty(metric.Name).GetDouble(), $"{name} {metric.Name}");
            Assert.True(File.Exists(dir.File($"esd/{details[name].GetProperty("layer_id").GetInt32():D3}_{AnalyzeCommand.FileName(name)}.svg")), name);
        }
        foreach (JsonProperty metric in s_expected.GetProperty("summary").EnumerateObject())
            Close(metric.Value.GetDouble(), json.RootElement.GetProperty("summary").GetProperty(metric.Name).GetDouble(), $"summary {metric.Name}");

        string[] csv = File.ReadAllLines(dir.File("details.csv"));
        Assert.StartsWith("layer_id,name,shape,N,M,rf,num_evals,alpha,xmin,D,", csv[0]);
        Assert.Equal(1 + expected.Count, csv.Length);
    }

    [Fact]
    public void TheEsdIsThePooledScaledSpectrumOfEveryKernelPosition()
    {
        using var scope = NewDisposeScope();
        var weights = PyTorchFile.load_state_dict(Fixture("ww_input.pt"));
        foreach (string name in new[] { "dense.weight", "conv.weight", "heavy.weight" })
        {
            Esd esd = Esd.Of(weights[name], name);
            double[] expected = s_expected.GetProperty("evals").GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(expected.Length, esd.Eigenvalues.Length);
            for (int i = 0; i < expected.Length; i++) Close(expected[i], esd.Eigenvalues[i], $"{name} λ{i}");
        }
    }

    [Fact]
    public void JensenShannonDistanceIsScipys()
    {
        double[] dense = s_expected.GetProperty("evals").GetProperty("dense.weight").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        double[] square = s_expected.GetProperty("evals").GetProperty("square.weight").EnumerateArray().Select(e => e.GetDouble()).Order().TakeLast(30).ToArray();
        Close(s_expected.GetProperty("jensen_shannon").GetDouble(), LayerMetrics.JensenShannonDistance(dense, square), "JS distance");
        Assert.Equal(0, LayerMetrics.JensenShannonDistance(dense, dense), 12);
    }

    [Fact]
    public void ShufflingKeepsTheEntriesAndOneLargeEntryIsACorrelationTrap()
    {
        using var scope = NewDisposeScope();
        var random = new Random(1);
        double[] entries = Enumerable.Range(0, 200 * 100)
            .Select(_ => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()) / Math.Sqrt(200)).ToArray();
        Tensor gaussian = tensor(entries, [200, 100]);
        entries[3 * 100 + 7] = 10;
        Tensor trapped = tensor(entries, [200, 100]);
        foreach (Tensor w in new[] { gaussian, trapped })
        {
            // Shuffling keeps the entries, hence Σλ = ‖W‖F².
            double[] shuffled = Esd.Randomized(w, 1, random);
            Close(w.pow(2).sum().item<double>(), shuffled.Sum(), "Σλ of the shuffled weight");
        }
        // A shuffled Gaussian matrix is MP-distributed: no spike; one entry of 10 stays a rank-one spike σ ≈ 10 wherever it goes.
        Assert.Equal(0, MarchenkoPasturFit.Fit(Esd.Randomized(gaussian, 1, random), 200, 100).NumSpikes);
        Assert.Equal(1, MarchenkoPasturFit.Fit(Esd.Randomized(trapped, 1, random), 200, 100).NumSpikes);
    }

    [Fact]
    public void AFileWithoutAWeightMatrixIsOneErrorAndNoOutput()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        string file = dir.File("norms.safetensors");
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["norm.weight"] = ones([64]), ["tiny.weight"] = ones([3, 3]) }, file);
        var error = Assert.Throws<InvalidDataException>(() => AnalyzeCommand.Run(file, dir.File("out"), new AnalyzeCommand.Options()));
        Assert.Contains("no 2-D or 4-D floating-point weight", error.Message);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public void ARunThatFailsMidwayLeavesThePreviousResultsWhole()
    {
        // The second layer is NaN: its ESD is refused after the first layer's plot was drawn. The folder must keep the
        // previous run's files untouched and hold no new plot.
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        string file = dir.File("blown.safetensors");
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["a.weight"] = randn([30, 20]), ["b.weight"] = full([30, 20], double.NaN) }, file);
        string output = dir.File("out");
        Directory.CreateDirectory(Path.Combine(output, "esd"));
        File.WriteAllText(Path.Combine(output, "details.json"), "previous");
        File.WriteAllText(Path.Combine(output, "esd", "000_old.svg"), "previous");
        var error = Assert.Throws<InvalidDataException>(() => AnalyzeCommand.Run(file, output, new AnalyzeCommand.Options()));
        Assert.Contains("'b.weight'", error.Message);
        Assert.Equal(["details.json", "esd"], Directory.GetFileSystemEntries(output).Select(Path.GetFileName).Order());
        Assert.Equal(["000_old.svg"], Directory.GetFiles(Path.Combine(output, "esd")).Select(Path.GetFileName));
        Assert.Equal("previous", File.ReadAllText(Path.Combine(output, "details.json")));
    }

    [Fact]
    public void ZeroAndRankOneMatricesGetTheirLimitsInsteadOfAnError()
    {
        // A zero matrix (a fresh LoRA update) has λ = 0: no power law, no MP bulk, no plot; a rank-one matrix has one
        // eigenvalue above the fit's threshold: no power law, but its norms.
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        string file = dir.File("degenerate.safetensors");
        Tensor column = arange(1, 31, dtype: ScalarType.Float32).unsqueeze(1);
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["zero.weight"] = zeros([30, 20]), ["rank1.weight"] = column.matmul(ones([1, 20])) }, file);
        Assert.Equal(0, AnalyzeCommand.Run(file, dir.Path, new AnalyzeCommand.Options()));
        using var json = JsonDocument.Parse(File.ReadAllText(dir.File("details.json")));
        var layers = json.RootElement.GetProperty("details").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
        Assert.Equal("NaN", layers["zero.weight"].GetProperty("alpha").GetString());
        Assert.Equal(0, layers["zero.weight"].GetProperty("num_spikes").GetDouble());
        Assert.Equal("NaN", layers["rank1.weight"].GetProperty("alpha").GetString());
        Close(20 * Enumerable.Range(1, 30).Sum(i => (double)i * i), layers["rank1.weight"].GetProperty("spectral_norm").GetDouble(), "λmax of the rank-one matrix");
        Assert.Equal(1, layers["rank1.weight"].GetProperty("stable_rank").GetDouble(), 9);
        string id = layers["rank1.weight"].GetProperty("layer_id").GetInt32().ToString("D3");
        Assert.Equal([$"{id}_rank1_weight.png", $"{id}_rank1_weight.svg"], Directory.GetFiles(dir.File("esd")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void ANonFiniteWeightIsRefusedNamingIt()
    {
        using var scope = NewDisposeScope();
        float[] entries = Enumerable.Repeat(1f, 200).ToArray();
        entries[23] = float.NaN;
        Tensor w = tensor(entries, [20, 10]);
        var error = Assert.Throws<InvalidDataException>(() => Esd.Of(w, "blown.weight"));
        Assert.Contains("'blown.weight'", error.Message);
    }
}
