using System.Globalization;
using System.Text.Json;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Tool.Tests;

/// <summary>
/// `lowrankbias spectra` on files whose matrices have known singular values: every column of its CSV must equal the
/// closed form, whatever the file's element type (F32, F16, BF16) and for convolution kernels.
/// </summary>
public class SpectraToolTests(Xunit.Abstractions.ITestOutputHelper log)
{
    // diag(4, 2, 1, 1) padded to 4×6: singular values 4, 2, 1, 1 — exact in F32, F16 and BF16.
    private static readonly double[] Sigma = [4, 2, 1, 1];

    private static Tensor Diagonal(ScalarType dtype)
    {
        var values = new float[4 * 6];
        for (int i = 0; i < 4; i++) values[i * 6 + i] = (float)Sigma[i];
        return tensor(values, [4, 6]).to(dtype);
    }

    [Fact]
    public void EveryColumnIsTheClosedFormInEveryElementType()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        string file = dir.File("model.safetensors");
        SafeTensors.save_file(new Dictionary<string, Tensor>
        {
            ["f32.weight"] = Diagonal(ScalarType.Float32),
            ["f16.weight"] = Diagonal(ScalarType.Float16),
            ["bf16.weight"] = Diagonal(ScalarType.BFloat16),
            ["conv.weight"] = Diagonal(ScalarType.Float32).reshape(4, 6, 1, 1),
            ["norm.weight"] = ones([6]),                     // not a matrix: skipped
            ["steps"] = tensor(new long[] { 1, 2 }, [1, 2]), // not floating point: skipped
        }, file);

        Assert.Equal(0, LowRankBias.Tool.Spectra.Run(file, dir.File("out"), minDimension: 2));

        string[] lines = File.ReadAllLines(dir.File("out/spectra.csv"));
        Assert.Equal("index,layer,shape,dtype,stable_rank,effective_rank,alpha,frobenius_norm,spectral_norm,nuclear_norm", lines[0]);
        double frobenius2 = Sigma.Sum(s => s * s), nuclear = Sigma.Sum();
        double entropy = -Sigma.Select(s => s / nuclear).Sum(p => p * Math.Log(p));
        var layers = lines.Skip(1).Select(l => l.Split(',')).ToDictionary(c => c[1]);
        Assert.Equal(["bf16.weight", "conv.weight", "f16.weight", "f32.weight"], layers.Keys.Order());
        foreach (string[] c in layers.Values)
        {
            double V(int i) => double.Parse(c[i], CultureInfo.InvariantCulture);
            Assert.Equal(frobenius2 / 16, V(4), 5);            // stable rank ‖W‖F²/‖W‖₂²
            Assert.Equal(Math.Exp(entropy), V(5), 5);          // effective rank exp(H), p = σ/Σσ
            Assert.Equal(Math.Sqrt(frobenius2), V(7), 5);
            Assert.Equal(4, V(8), 5);
            Assert.Equal(nuclear, V(9), 5);
        }
        Assert.Equal("4x6x1x1", layers["conv.weight"][2]);
        // spectra.json: per layer the same columns by their JSON names, in the layout written before the column list.
        using (JsonDocument json = JsonDocument.Parse(File.ReadAllText(dir.File("out/spectra.json"))))
            Assert.Equal(["Index", "Name", "Shape", "DType", "StableRank", "EffectiveRank", "Alpha", "FrobeniusNorm", "SpectralNorm", "NuclearNorm"],
                json.RootElement.GetProperty("layers")[0].EnumerateObject().Select(p => p.Name));
        Assert.Contains("<svg", File.ReadAllText(dir.File("out/ranks.svg")));
        Assert.True(File.Exists(dir.File("out/ranks.png")));
    }

    [Fact]
    public void ATorchSaveCheckpointIsReadToo()
    {
        using var dir = new TempDirectory();
        string fixture = Path.Combine(AppContext.BaseDirectory, "fixtures", "pretrained", "torchvision_vit.pt");
        Assert.Equal(0, LowRankBias.Tool.Spectra.Run(fixture, dir.Path, minDimension: 2));
        // conv_proj, per block in_proj, out_proj, mlp.0, mlp.3 (2 blocks), head: 10 matrices.
        Assert.Equal(11, File.ReadAllLines(Path.Combine(dir.Path, "spectra.csv")).Length);
    }

    [Fact]
    public void AnOnnxModelsInitializersAreItsMatrices()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = new LowRankBias.Torch.Modules.Sequential(
            new LowRankBias.Torch.Modules.Conv2d(6, 4, 1, bias: false), new LowRankBias.Torch.Modules.Conv2d(4, 6, 1));
        using (no_grad())
        {
            ((LowRankBias.Torch.Modules.Conv2d)model[0]).weight.copy_(Diagonal(ScalarType.Float32).reshape(4, 6, 1, 1));
            ((LowRankBias.Torch.Modules.Conv2d)model[1]).weight.copy_(Diagonal(ScalarType.Float32).t().reshape(6, 4, 1, 1));
        }
        string file = dir.File("model.onnx");
        LowRankBias.Onnx.OnnxExport.export_onnx(model, file, randn([1, 6, 3, 3]));

        Assert.Equal(0, LowRankBias.Tool.Spectra.Run(file, dir.File("out"), minDimension: 2));
        var layers = File.ReadAllLines(dir.File("out/spectra.csv")).Skip(1).Select(l => l.Split(',')).ToDictionary(c => c[1]);
        Assert.Equal(["0.weight", "1.weight"], layers.Keys.Order());  // the bias is no matrix
        Assert.Equal("4x6x1x1", layers["0.weight"][2]);
        foreach (string[] c in layers.Values)
        {
            double V(int i) => double.Parse(c[i], CultureInfo.InvariantCulture);
            Assert.Equal(Sigma.Sum(s => s * s) / 16, V(4), 5);  // stable rank of diag(4, 2, 1, 1)
            Assert.Equal(4, V(8), 5);
            Assert.Equal(Sigma.Sum(), V(9), 5);
        }
    }

    [Theory]
    [MemberData(nameof(HostileFiles.NoStateDict), MemberType = typeof(HostileFiles))]
    public void AHostileCheckpointIsOneErrorNamingFileAndCause(string file, string cause)
    {
        // Before: stack overflows, a hang in SVD of a 20000 × 20000 stride-0 view, 8 GB for a 98 KB file, and a legacy
        // .pt called a bad safetensors file. The tool prints an InvalidDataException's message and exits 1.
        using var dir = new TempDirectory();
        HostileFiles.AssertRefused(file, cause, path => LowRankBias.Tool.Spectra.Run(path, dir.Path, minDimension: 2), log);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void ResultsReplaceAnExistingFileWholeInsteadOfWritingIntoIt()
    {
        // spectra.json leads to /dev/full, where every write fails as on a full disk: written in place, it could only
        // fail (leaving a truncated file on a real disk); written whole next to it and renamed, it replaces the link.
        using var dir = new TempDirectory();
        string fixture = Path.Combine(AppContext.BaseDirectory, "fixtures", "pretrained", "torchvision_vit.pt");
        File.CreateSymbolicLink(dir.File("spectra.json"), "/dev/full");
        Assert.Equal(0, LowRankBias.Tool.Spectra.Run(fixture, dir.Path, minDimension: 2));
        Assert.Null(new FileInfo(dir.File("spectra.json")).LinkTarget);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("spectra.json")));
        Assert.Equal(10, json.RootElement.GetProperty("layers").GetArrayLength());
        Assert.Empty(Directory.GetFiles(dir.Path, ".*.tmp"));
    }
}
