using LowRankBias.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

public sealed class LoraEmbeddingTests
{
    private const int Rows = 9, Dim = 5, Rank = 2;

    private static LoraEmbedding Table64(int seed, long? padding = null)
    {
        var table = new Embedding(Rows, Dim, padding, dtype: F64);
        using (NewDisposeScope()) Fill(table.weight, TestData.Randn(seed, Rows, Dim));
        return new LoraEmbedding(table, new LoraConfig { r = Rank, lora_alpha = 5 });
    }

    private static Tensor Indices(params long[] values) => tensor(values, [2, values.Length / 2]);

    [Fact]
    public void PeftLayoutStartsWithAZeroAndBNormal()
    {
        using var scope = NewDisposeScope();
        using var lora = Table64(1);
        Assert.Equal([Rank, Rows], lora.lora_A["default"].shape);
        Assert.Equal([Dim, Rank], lora.lora_B["default"].shape);
        Assert.All(ToDoubles(lora.lora_A["default"]), v => Assert.Equal(0.0, v));
        Assert.Contains(ToDoubles(lora.lora_B["default"]), v => v != 0);
        Tensor idx = Indices(0, 3, 8, 3);
        Assert.Equal(ToDoubles(lora.weight.index_select(0, idx.flatten())), ToDoubles(lora.call(idx)));
        Assert.Contains("lora_embedding_A.default", lora.state_dict().Keys);
    }

    [Fact]
    public void RowsGainScaledColumnsOfBAAndMergingAgrees()
    {
        using var scope = NewDisposeScope();
        using var lora = Table64(10);
        Randomize(lora, "default", 20);
        Tensor idx = Indices(4, 0, 8, 4, 2, 7);
        Matrix<double> table = M(lora.weight) + lora.scaling["default"] * (M(lora.lora_B["default"]) * M(lora.lora_A["default"])).Transpose();
        double[] expected = ToDoubles(idx).SelectMany(i => table.Row((int)i).ToArray()).ToArray();

        Tensor unmerged = lora.call(idx);
        Assert.Equal(ScalarType.Float64, unmerged.dtype);
        TestData.AssertClose(expected, unmerged, 1e-12);
        lora.merge();
        TestData.AssertClose(table.ToRowMajorArray(), lora.weight, 1e-12);
        AssertRelative(unmerged, lora.call(idx), 1e-10, "merged lookup");
        lora.unmerge();
        TestData.AssertClose(ToDoubles(TestData.Randn(10, Rows, Dim)), lora.weight, 1e-12);
    }

    [Fact]
    public void GradientsReachOnlyTheLookedUpColumnsOfAAndNeverThePaddingColumn()
    {
        using var scope = NewDisposeScope();
        using var lora = Table64(30, padding: 2);
        Randomize(lora, "default", 40);
        Tensor idx = Indices(2, 5, 2, 1);
        Tensor g = TestData.Randn(41, 2, 2, Dim);
        (lora.call(idx) * g).sum().backward();

        // ∂L/∂A[:, i] = s Bᵀ Σ_{positions p with index i} g_p for i ≠ padding; 0 for the padding row and unused rows.
        double s = lora.scaling["default"];
        Matrix<double> b = M(lora.lora_B["default"]), gs = M(g.reshape(4, Dim));
        long[] looked = [2, 5, 2, 1];
        var expected = Matrix<double>.Build.Dense(Rank, Rows);
        for (int p = 0; p < looked.Length; p++)
            if (looked[p] != 2) expected.SetColumn((int)looked[p], expected.Column((int)looked[p]) + s * b.Transpose() * gs.Row(p));
        TestData.AssertClose(expected.ToRowMajorArray(), lora.lora_A["default"].grad!, 1e-12);
    }

    [Fact]
    public void LowPrecisionTableGivesAdapterDtypeOutput()
    {
        using var scope = NewDisposeScope();
        var table = new Embedding(Rows, Dim);
        table.to(ScalarType.BFloat16);
        using var lora = new LoraEmbedding(table, new LoraConfig { r = Rank });
        Tensor y = lora.call(Indices(1, 2));
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.Equal(ToDoubles(table.weight.narrow(0, 1, 2).to(ScalarType.Float32)), ToDoubles(y));
    }
}
