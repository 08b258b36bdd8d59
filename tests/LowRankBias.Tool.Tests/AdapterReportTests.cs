using LowRankBias.Tool;
using LowRankBias.Tool.Analysis;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Tool.Tests;

/// <summary>
/// The adapter table of `lowrankbias analyze ADAPTER --base BASE` on tests/fixtures/peft/tiny_adapter
/// (make_adapter.py): blocks.1.fc has r = 1 and ΔW = 4·B·A with A = (2, 3, 4, 5, 6)/8, B = (−1, 0, 1, 2)ᵀ/2, so
/// ‖ΔW‖₂ = 4‖B‖‖A‖ = √540/4; blocks.0.fc has r = 2 with independent factors, so ΔW has rank 2.
/// </summary>
public class AdapterReportTests
{
    private static string Adapter => Path.Combine(AppContext.BaseDirectory, "fixtures", "peft", "tiny_adapter");

    [Fact]
    public void RanksAndNormsOfEachUpdateAgainstTheBase()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var baseWeights = new Dictionary<string, Tensor>
        {
            ["blocks.0.fc.weight"] = eye(5).narrow(1, 0, 4) * 3,  // ‖W‖₂ = 3
            ["blocks.1.fc.weight"] = eye(5).narrow(0, 0, 4) * 2,  // ‖W‖₂ = 2
            ["emb.weight"] = eye(6).narrow(1, 0, 4),              // ‖W‖₂ = 1
        };
        SafeTensors.save_file(baseWeights, dir.File("base.safetensors"));
        using var adapter = new AdapterDeltas(Adapter);
        var rows = AdapterReport.Run(adapter, dir.File("base.safetensors"), dir.Path).ToDictionary(r => r.Name);

        AdapterReport.Row one = rows["blocks.1.fc.weight"];
        Assert.Equal((1, 1), (one.Rank, one.UsedRank));
        Assert.Equal(1, one.EffectiveRank, 6);
        Assert.Equal(Math.Sqrt(540) / 4, one.DeltaNorm, 5);
        Assert.Equal(2, one.BaseNorm, 6);
        Assert.Equal(Math.Sqrt(540) / 8, one.Relative, 5);
        Assert.Equal((2, 2), (rows["blocks.0.fc.weight"].Rank, rows["blocks.0.fc.weight"].UsedRank));
        Assert.InRange(rows["blocks.0.fc.weight"].EffectiveRank, 1, 2);
        Assert.Equal(4, File.ReadAllLines(dir.File("adapter.csv")).Length);
    }

    [Fact]
    public void ABaseWithoutAnAdaptedWeightIsOneError()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["emb.weight"] = ones([6, 4]) }, dir.File("base.safetensors"));
        using var adapter = new AdapterDeltas(Adapter);
        var error = Assert.Throws<InvalidDataException>(() => AdapterReport.Run(adapter, dir.File("base.safetensors"), dir.File("out")));
        Assert.Contains("has no 'blocks.0.fc.weight'", error.Message);
        Assert.False(File.Exists(dir.File("out/adapter.csv")));
    }
}
