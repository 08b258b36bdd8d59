using LowRankBias.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

public sealed class MultiHeadLoraLinearTests
{
    private const int Heads = 4, Rank = 2, In = 7, Out = 5;

    private static MultiHeadLoraLinear Heads64(HeadInput mode, int seed, double alpha = 6, IReadOnlyList<int>? ranks = null)
    {
        var layer = new MultiHeadLoraLinear(Linear64(In, Out, 1),
            new LoraConfig { r = Rank, lora_alpha = alpha, num_heads = Heads, head_input = mode, head_ranks = ranks });
        Randomize(layer, "default", seed);
        return layer;
    }

    [Fact]
    public void FactorsAreStackedPerHead()
    {
        using var layer = Heads64(HeadInput.Shared, 1);
        Assert.Equal([Heads, Rank, In], layer.lora_A["default"].shape);
        Assert.Equal([Heads, Out, Rank], layer.lora_B["default"].shape);
        Assert.Equal(Heads, layer.num_heads["default"]);
    }

    [Fact]
    public void SharedHeadsEqualOneLoraOfRankNrWithConcatenatedFactorsAndScaleSOverN()
    {
        using var scope = NewDisposeScope();
        using var heads = Heads64(HeadInput.Shared, 10);
        double s = heads.scaling["default"];
        // One LoRA of rank N·r, α chosen so its scale α/(N·r) is s/N; A = [A₁; …; A_N], B = [B₁ … B_N].
        using var single = new LoraLinear(Linear64(In, Out, 1), new LoraConfig { r = Heads * Rank, lora_alpha = s / Heads * Heads * Rank, allow_rank_above_min = true });
        Fill(single.lora_A["default"], heads.lora_A["default"].reshape(Heads * Rank, In));
        Fill(single.lora_B["default"], cat(heads.lora_B["default"].unbind(0), 1));
        Tensor x = TestData.Randn(11, 3, 6, In);

        Tensor y = heads.call(x), expected = single.call(x);
        AssertRelative(expected, y, 1e-12, "forward");
        Tensor g = TestData.Randn(12, 3, 6, Out);
        (y * g).sum().backward();
        (expected * g).sum().backward();
        AssertRelative(single.lora_A["default"].grad!, heads.lora_A["default"].grad!.reshape(Heads * Rank, In), 1e-12, "∂L/∂A");
        AssertRelative(single.lora_B["default"].grad!, cat(heads.lora_B["default"].grad!.unbind(0), 1), 1e-12, "∂L/∂B");
    }

    [Fact]
    public void SplitInputEqualsSeparateLorasEachFedItsOwnGroup()
    {
        using var scope = NewDisposeScope();
        using var heads = Heads64(HeadInput.Split, 20);
        const long perHead = 3;
        Tensor x = TestData.Randn(21, Heads * perHead, 2, In);
        Tensor g = TestData.Randn(22, Heads * perHead, 2, Out);
        Tensor y = heads.call(x);
        (y * g).sum().backward();

        for (int n = 0; n < Heads; n++)
        {
            using var lone = new LoraLinear(Linear64(In, Out, 1), new LoraConfig { r = Rank, lora_alpha = 6 });
            Fill(lone.lora_A["default"], heads.lora_A["default"][n]);
            Fill(lone.lora_B["default"], heads.lora_B["default"][n]);
            Tensor group = x.narrow(0, n * perHead, perHead);
            Tensor yn = lone.call(group);
            AssertRelative(yn, y.narrow(0, n * perHead, perHead), 1e-12, $"head {n} output");
            (yn * g.narrow(0, n * perHead, perHead)).sum().backward();
            AssertRelative(lone.lora_A["default"].grad!, heads.lora_A["default"].grad![n], 1e-12, $"head {n} ∂L/∂A");
            AssertRelative(lone.lora_B["default"].grad!, heads.lora_B["default"].grad![n], 1e-12, $"head {n} ∂L/∂B");
        }
    }

    [Fact]
    public void SplitInputRejectsABatchThatDoesNotDivide()
    {
        using var scope = NewDisposeScope();
        using var heads = Heads64(HeadInput.Split, 30);
        var error = Assert.Throws<ArgumentException>(() => heads.call(TestData.Randn(31, Heads + 1, In)));
        Assert.Contains("cannot be divided into 4 equal groups", error.Message);
    }

    [Theory]
    [InlineData(HeadInput.Shared)]
    [InlineData(HeadInput.Split)]
    public void MergeFoldsTheHeadsAverage(HeadInput mode)
    {
        using var scope = NewDisposeScope();
        using var heads = Heads64(mode, 40);
        double s = 6.0 / Rank;
        Matrix<double> expected = M(TestData.Randn(1, Out, In));
        for (int n = 0; n < Heads; n++)
            expected += s / Heads * M(heads.lora_B["default"][n]) * M(heads.lora_A["default"][n]);
        Tensor x = TestData.Randn(41, Heads * 2, In);
        Tensor unmerged = heads.call(x);

        heads.merge();
        TestData.AssertClose(expected.ToRowMajorArray(), heads.weight, 1e-12);
        if (mode == HeadInput.Shared) AssertRelative(unmerged, heads.call(x), 1e-10, "merged forward");
        heads.unmerge();
        TestData.AssertClose(ToDoubles(TestData.Randn(1, Out, In)), heads.weight, 1e-12);
    }

    [Fact]
    public void HeterogeneousRanksPadWithInertComponents()
    {
        using var scope = NewDisposeScope();
        int[] ranks = [1, 3, 2, 3];
        using var fresh = new MultiHeadLoraLinear(Linear64(In, Out, 1),
            new LoraConfig { r = 3, lora_alpha = 6, num_heads = Heads, head_ranks = ranks, init_lora_weights = LoraInit.Orthogonal });
        for (int n = 0; n < Heads; n++)
        {
            Matrix<double> a = M(fresh.lora_A["default"][n]);
            Assert.True((a.SubMatrix(0, ranks[n], 0, In) * a.SubMatrix(0, ranks[n], 0, In).Transpose()
                - Matrix<double>.Build.DenseIdentity(ranks[n])).InfinityNorm() < 1e-12, $"head {n}: used rows orthonormal");
            Assert.All(ToDoubles(fresh.lora_A["default"][n].narrow(0, ranks[n], 3 - ranks[n])), v => Assert.Equal(0.0, v));
        }

        // Garbage in the padding must not matter: each head contributes (α/rₙ)/N · Bₙ[:, :rₙ] Aₙ[:rₙ].
        using var heads = new MultiHeadLoraLinear(Linear64(In, Out, 1), new LoraConfig { r = 3, lora_alpha = 6, num_heads = Heads, head_ranks = ranks });
        Randomize(heads, "default", 50);
        Tensor x = TestData.Randn(51, 5, In);
        Matrix<double> w = M(TestData.Randn(1, Out, In));
        for (int n = 0; n < Heads; n++)
        {
            Matrix<double> a = M(heads.lora_A["default"][n]).SubMatrix(0, ranks[n], 0, In);
            Matrix<double> b = M(heads.lora_B["default"][n]).SubMatrix(0, Out, 0, ranks[n]);
            w += 6.0 / ranks[n] / Heads * b * a;
        }
        Matrix<double> expected = M(x) * w.Transpose();
        Vector<double> bias = Vector<double>.Build.DenseOfArray(ToDoubles(TestData.Randn(2, Out)));
        for (int i = 0; i < expected.RowCount; i++) expected.SetRow(i, expected.Row(i) + bias);
        Tensor y = heads.call(x);
        TestData.AssertClose(expected.ToRowMajorArray(), y, 1e-12);

        y.sum().backward();
        for (int n = 0; n < Heads; n++)
        {
            Assert.All(ToDoubles(heads.lora_A["default"].grad![n].narrow(0, ranks[n], 3 - ranks[n])), v => Assert.Equal(0.0, v));
            Assert.All(ToDoubles(heads.lora_B["default"].grad![n].narrow(1, ranks[n], 3 - ranks[n])), v => Assert.Equal(0.0, v));
        }
        heads.merge();
        TestData.AssertClose(w.ToRowMajorArray(), heads.weight, 1e-12);
    }

    [Fact]
    public void ConfigsThatDoNotFitAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoraConfig { num_heads = 0 }.Validate());
        var mismatch = Assert.Throws<ArgumentException>(() => new LoraConfig { num_heads = 3, head_ranks = [1, 2] }.Validate());
        Assert.Contains("head_ranks has 2 entries but num_heads is 3", mismatch.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoraConfig { num_heads = 2, head_ranks = [1, 0] }.Validate());
        var single = Assert.Throws<ArgumentException>(() => new LoraLinear(Linear64(In, Out, 1), new LoraConfig { r = 2, num_heads = 2 }));
        Assert.Contains("MultiHeadLoraLinear", single.Message);
        // Each head's rank is bounded by min(out, in); the total N·r may exceed it (LTE uses 32 × 64 > 1536).
        using var wide = new MultiHeadLoraLinear(Linear64(In, Out, 1), new LoraConfig { r = Out, num_heads = 8 });
        Assert.Throws<ArgumentException>(() => new MultiHeadLoraLinear(Linear64(In, Out, 1), new LoraConfig { r = Out + 1, num_heads = 2 }));
    }
}
