using LowRankBias.Lora;
using LowRankBias.Spectral;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.IO;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Lora.LoraTestKit;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public sealed class SpectralMonitorTests
{
    /// <summary>fc1 (6 → 8) → fc2 (8 → 8) → head (8 → 3), float64, seeded.</summary>
    private sealed class Chain : Module
    {
        public Module fc1 = Linear64(6, 8, 1), fc2 = Linear64(8, 8, 3), head = Linear64(8, 3, 5);

        public override Tensor forward(Tensor input)
        {
            using Tensor a = fc1.call(input), b = fc2.call(a);
            return head.call(b);
        }
    }

    [Fact]
    public void RecordsAgreeWithAFloat64OracleLayerByLayer()
    {
        using var dir = new TempDirectory();
        using var model = new Chain();
        using var monitor = new SpectralMonitor(model, dir.Path, new SpectralMonitorOptions { TopSingularValues = 5 });
        SpectralRecord record = monitor.Record(0);

        Assert.Equal(["fc1", "fc2", "head"], record.Layers.Select(l => l.Name));
        foreach (LayerSpectrumRecord layer in record.Layers)
        {
            Matrix<double> w = ToMatrix(((Linear)model.get_submodule(layer.Name)).weight);
            double[] s = SingularValues(w);
            double entropy = Entropy(s);
            Assert.Equal(Math.Exp(entropy), layer[SpectrumColumns.EffectiveRank], 10);
            Assert.Equal(Math.Exp(entropy) / Math.Min(w.RowCount, w.ColumnCount), layer[SpectrumColumns.NormalizedEffectiveRank], 10);
            Assert.Equal(Math.Pow(w.FrobeniusNorm() / s[0], 2), layer[SpectrumColumns.StableRank], 10);
            Assert.Equal(s.Sum(), layer[SpectrumColumns.NuclearNorm], 10);
            Assert.Equal(s.Take(5), layer.SingularValues, (a, b) => Math.Abs(a - b) < 1e-10);
        }
        // fc1 → fc2 and fc2 → head chain; the alignment is the one LayerAlignment computes for the pair.
        Assert.Equal(["fc1 → fc2", "fc2 → head"], record.Alignment.Select(a => a.Name));
        AlignmentResult direct = LayerAlignment.Consecutive(((Linear)model.get_submodule("fc1")).weight, ((Linear)model.get_submodule("fc2")).weight, 10, 10);
        Assert.Equal(direct.Score, record.Alignment[0].Score, 12);
        Assert.Empty(record.Agreement);
    }

    [Fact]
    public void RecordsEveryKStepsAndAgreementOfUnchangedWeightsIsOne()
    {
        using var dir = new TempDirectory();
        using var model = new Chain();
        using var monitor = new SpectralMonitor(model, dir.Path, new SpectralMonitorOptions { Every = 10 });
        long[] recorded = Enumerable.Range(0, 26).Where(step => monitor.Step(step)).Select(step => (long)step).ToArray();

        Assert.Equal([0L, 10, 20], recorded);
        Assert.Equal(recorded, monitor.Records.Select(r => r.Step));
        foreach (DiagonalRecord agreement in monitor.Records[1].Agreement)
            Assert.All(agreement.Diagonal, d => Assert.Equal(1.0, d, 9));
    }

    [Fact]
    public void ALoraLayerIsMeasuredOnItsEffectiveWeight()
    {
        using var dir = new TempDirectory();
        using var lora = new LoraModel(new Chain(), new LoraConfig { r = 2, lora_alpha = 4, target_modules = new[] { "fc2" } });
        var layer = (LoraLayer)lora.model.get_submodule("fc2");
        using (no_grad()) layer.lora_B["default"].copy_(TestData.Randn(9, 8, 2));
        using var monitor = new SpectralMonitor(lora, dir.Path);
        LayerSpectrumRecord fc2 = monitor.Record(0).Layers.Single(l => l.Name.EndsWith("fc2", StringComparison.Ordinal));

        // W + (α/r)·B·A by hand in MathNet.
        Matrix<double> effective = ToMatrix(layer.weight) + 2.0 * ToMatrix(layer.lora_B["default"]) * ToMatrix(layer.lora_A["default"]);
        Assert.Equal(SingularValues(effective)[0], fc2[SpectrumColumns.SpectralNorm], 10);
        Assert.NotEqual(SingularValues(ToMatrix(layer.weight))[0], fc2[SpectrumColumns.SpectralNorm], 6);
        Assert.Equal(3, monitor.Records[0].Layers.Count); // the LoRA layer's base Linear is not measured twice
    }

    [Fact]
    public void FilesHoldEveryRecordAndParseBack()
    {
        using var dir = new TempDirectory();
        using var model = new Chain();
        using (var monitor = new SpectralMonitor(model, dir.Path, new SpectralMonitorOptions { Every = 1 }))
        {
            monitor.Step(0);
            using (no_grad()) ((Linear)model.fc2).weight.mul_(2);
            monitor.Step(1);
            IReadOnlyList<SpectralRecord> read = SpectralMonitor.Read(monitor.JsonlPath);
            Assert.Equal(2, read.Count);
            Assert.Equal(monitor.Records[1].Layers[1][SpectrumColumns.StableRank], read[1].Layers[1][SpectrumColumns.StableRank]);
            Assert.Equal(2 * monitor.Records[0].Layers[1][SpectrumColumns.SpectralNorm], read[1].Layers[1][SpectrumColumns.SpectralNorm], 10);
            string[] csv = File.ReadAllLines(monitor.CsvPath);
            Assert.Equal("step,layer,shape,effective_rank,normalized_effective_rank,stable_rank,frobenius_norm,spectral_norm,nuclear_norm", csv[0]);
            Assert.Equal(1 + 2 * 3, csv.Length);
            Assert.StartsWith("1,fc2,8x8,", csv[5]);
        }
        // A monitor reopened on the same folder appends: nothing written before is lost.
        using (var again = new SpectralMonitor(model, dir.Path)) again.Record(2);
        Assert.Equal(3, SpectralMonitor.Read(Path.Combine(dir.Path, "spectral.jsonl")).Count);
        Assert.Equal(1 + 3 * 3, File.ReadAllLines(Path.Combine(dir.Path, "spectral.csv")).Length);
    }

    /// <summary>embed (7 tokens → 5) → fc (5 → 4), float64.</summary>
    private sealed class Tokens : Module
    {
        public Module embed = new Embedding(7, 5, dtype: ScalarType.Float64), fc = Linear64(5, 4, 2);

        public override Tensor forward(Tensor input)
        {
            using Tensor e = embed.call(input);
            return fc.call(e);
        }
    }

    [Fact]
    public void AnEmbeddingIsMeasuredAsOutByIn()
    {
        using var dir = new TempDirectory();
        manual_seed(3);
        using var model = new Tokens();
        using var monitor = new SpectralMonitor(model, dir.Path, new SpectralMonitorOptions { Every = 1, ScoreCount = 2, DiagonalLength = 4 });
        for (int step = 0; step < 3; step++) monitor.Step(step);

        // The table [7, 5] maps one-hot tokens to 5 numbers: as a matrix it is 5 × 7, and it feeds fc.
        Tensor table = ((Embedding)model.get_submodule("embed")).weight;
        Assert.Equal([5L, 7], monitor.Records[0].Layers[0].Shape);
        Assert.Equal(["embed → fc"], monitor.Records[0].Alignment.Select(a => a.Name));
        AlignmentResult direct = LayerAlignment.Consecutive(table.t(), ((Linear)model.get_submodule("fc")).weight, 2, 4);
        Assert.Equal(direct.Diagonal, monitor.Records[0].Alignment[0].Diagonal, (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(4, monitor.Records[0].Alignment[0].Diagonal.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpectralMonitorOptions { ScoreCount = 5, DiagonalLength = 4 }.Validate());
    }

    [Fact]
    public void BadSettingsAndModelsWithoutWeightsAreRefused()
    {
        using var dir = new TempDirectory();
        using var model = new Chain();
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpectralMonitor(model, dir.Path, new SpectralMonitorOptions { Every = 0 }));
        using var empty = new Sequential(new Tanh());
        Assert.Contains("no Linear, Conv2d or Embedding", Assert.Throws<ArgumentException>(() => new SpectralMonitor(empty, dir.Path)).Message);
    }
}
