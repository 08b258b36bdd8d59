using System.Text.Json;
using LowRankBias.Tool.Analysis;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Tool.Tests;

/// <summary>
/// `lowrankbias compare` on matrices whose change is known in closed form: W = diag(4, 3, 2, 1) padded to 8 × 4, and
/// W' = W + 10·e₅e₀ᵀ. Column 0 of W' is 4e₀ + 10e₅, so σ'₁ = √116 with u'₁ = (4e₀ + 10e₅)/√116, whose largest |cos| with
/// the old left singular vectors e₀…e₃ is 4/√116 ≈ 0.37 &lt; 0.5: one intruder dimension (PEFT's definition); the
/// other singular pairs (3, e₁), (2, e₂), (1, e₃) are unchanged.
/// </summary>
public class CompareToolTests
{
    private static Tensor Diagonal(double shift)
    {
        var w = new double[8 * 4];
        double[] sigma = [4, 3, 2, 1];
        for (int i = 0; i < 4; i++) w[i * 4 + i] = sigma[i];
        w[5 * 4 + 0] = shift;
        return tensor(w, [8, 4]);
    }

    [Fact]
    public void ChangeOverlapAndIntrudersAreTheClosedForm()
    {
        using var scope = NewDisposeScope();
        LayerChange c = LayerChange.Of("w", Diagonal(0), Diagonal(10), topK: 2, threshold: 0.5);
        Assert.Equal(10 / Math.Sqrt(30), c.RelativeChange, 12);
        Assert.Equal([4, 3], c.TopSingularValuesBefore, (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal([Math.Sqrt(116), 3], c.TopSingularValuesAfter, (a, b) => Math.Abs(a - b) < 1e-12);
        // Top-2 left subspaces {e₀, e₁} and {u'₁, e₁}: ‖U₂ᵀU'₂‖F² = 16/116 + 1.
        Assert.Equal((16.0 / 116 + 1) / 2, c.SubspaceOverlap, 12);
        Assert.Equal([0], c.Intruders);
        double[] after = [Math.Sqrt(116), 3, 2, 1];
        double entropy = -after.Select(s => s / after.Sum()).Sum(p => p * Math.Log(p));
        Assert.Equal(Math.Exp(entropy), c.EffectiveRankAfter, 12);
        // A threshold below 4/√116 finds no intruder; the same matrix twice changes nothing.
        Assert.Empty(LayerChange.Of("w", Diagonal(0), Diagonal(10), topK: 2, threshold: 0.3).Intruders);
        LayerChange same = LayerChange.Of("w", Diagonal(0), Diagonal(0), topK: 4, threshold: 0.5);
        Assert.Equal(0, same.RelativeChange);
        Assert.Equal(1, same.SubspaceOverlap, 12);
        Assert.Empty(same.Intruders);
    }

    [Fact]
    public void TheCommandWritesEveryLayerAndRefusesMismatchedLayouts()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["fc.weight"] = Diagonal(0), ["bias"] = zeros([4]) }, dir.File("before.safetensors"));
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["fc.weight"] = Diagonal(10), ["bias"] = ones([4]) }, dir.File("after.safetensors"));
        Assert.Equal(0, CompareCommand.Run(dir.File("before.safetensors"), dir.File("after.safetensors"), dir.File("out"), 10, 0.5));
        using var json = JsonDocument.Parse(File.ReadAllText(dir.File("out/compare.json")));
        JsonElement layer = Assert.Single(json.RootElement.GetProperty("layers").EnumerateArray());
        Assert.Equal(4, layer.GetProperty("k").GetInt32()); // top_k 10 clamped to min(m, n)
        Assert.Equal(1, layer.GetProperty("intruders").GetArrayLength());

        SafeTensors.save_file(new Dictionary<string, Tensor> { ["fc.weight"] = zeros([4, 8]) }, dir.File("transposed.safetensors"));
        var shape = Assert.Throws<InvalidDataException>(() => CompareCommand.Run(dir.File("before.safetensors"), dir.File("transposed.safetensors"), dir.File("bad"), 10, 0.5));
        Assert.Contains("'fc.weight' is [8, 4]", shape.Message);
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["other.weight"] = Diagonal(0) }, dir.File("renamed.safetensors"));
        var names = Assert.Throws<InvalidDataException>(() => CompareCommand.Run(dir.File("before.safetensors"), dir.File("renamed.safetensors"), dir.File("bad"), 10, 0.5));
        Assert.Contains("is in only one of them", names.Message);
        Assert.False(Directory.Exists(dir.File("bad")));
    }
}
