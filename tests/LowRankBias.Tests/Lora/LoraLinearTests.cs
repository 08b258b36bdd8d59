using LowRankBias.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Lora.LoraTestKit;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Tests.Lora;

public sealed class LoraLinearTests
{
    [Fact]
    public void FreshAdapterIsANoOpAndOnlyTheFactorsTrain()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(Linear64(5, 4, 1), new LoraConfig { r = 2, lora_alpha = 4 });
        Tensor x = TestData.Randn(2, 3, 5);
        Tensor plain = F.linear(x, lora.weight, ((Linear)lora.base_layer).bias);

        Assert.Equal(ToDoubles(plain), ToDoubles(lora.call(x)));
        Assert.All(ToDoubles(lora.lora_B["default"]), v => Assert.Equal(0.0, v));
        Assert.False(lora.weight.requires_grad);
        Assert.False(((Linear)lora.base_layer).bias!.requires_grad);
        Assert.True(lora.lora_A["default"].requires_grad && lora.lora_B["default"].requires_grad);
        Assert.Equal(F64, lora.lora_A["default"].dtype);
    }

    // Integer input gave libtorch's "expected scalar type Long but found Float" (issue 30).
    [Fact]
    public void IntegerInputNamesTheLayerAndBothDtypes()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(new Linear(4, 3), new LoraConfig { r = 2, lora_alpha = 4 });
        var error = Assert.Throws<ArgumentException>(() => lora.call(tensor(new long[] { 1, 2, 3, 4 })));
        Assert.Contains("LoraLinear over Linear(in_features=4, out_features=3", error.Message);
        Assert.Contains("Float32", error.Message);
        Assert.Contains("got Int64", error.Message);
    }

    [Theory]
    [InlineData(false, 4.0 / 2)]
    [InlineData(true, 4.0 / 1.4142135623730951)]
    public void ForwardIsWxPlusBiasPlusScaledBAx(bool rslora, double expectedScale)
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(Linear64(5, 4, 1), new LoraConfig { r = 2, lora_alpha = 4, use_rslora = rslora });
        Randomize(lora, "default", 10);
        Tensor x = TestData.Randn(3, 6, 5);

        Matrix<double> w = M(lora.weight), a = M(lora.lora_A["default"]), b = M(lora.lora_B["default"]), xs = M(x);
        Vector<double> bias = Vector<double>.Build.DenseOfArray(ToDoubles(((Linear)lora.base_layer).bias!));
        Matrix<double> expected = xs * (w + expectedScale * b * a).Transpose();
        for (int i = 0; i < expected.RowCount; i++) expected.SetRow(i, expected.Row(i) + bias);

        Assert.Equal(expectedScale, lora.scaling["default"], 15);
        TestData.AssertClose(expected.ToRowMajorArray(), lora.call(x), 1e-12);
    }

    [Fact]
    public void FactorGradientsAreLteEquations15And16()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(Linear64(5, 4, 1), new LoraConfig { r = 3, lora_alpha = 6 });
        Randomize(lora, "default", 20);
        Tensor z = TestData.Randn(4, 7, 5);
        Tensor g = TestData.Randn(5, 7, 4);                    // ∂L/∂z_out for L = Σ g ⊙ y
        (lora.call(z) * g).sum().backward();

        double s = lora.scaling["default"];
        Matrix<double> a = M(lora.lora_A["default"]), b = M(lora.lora_B["default"]), zs = M(z), gs = M(g);
        // Batched over rows: ∂L/∂B = s Σᵢ gᵢ (A zᵢ)ᵀ = s gᵀ (z Aᵀ), ∂L/∂A = s Σᵢ Bᵀ gᵢ zᵢᵀ = s Bᵀ gᵀ z.
        Matrix<double> dB = s * gs.Transpose() * (zs * a.Transpose());
        Matrix<double> dA = s * b.Transpose() * gs.Transpose() * zs;

        TestData.AssertClose(dB.ToRowMajorArray(), lora.lora_B["default"].grad!, 1e-12);
        TestData.AssertClose(dA.ToRowMajorArray(), lora.lora_A["default"].grad!, 1e-12);
        Assert.Null(lora.weight.grad);
    }

    [Fact]
    public void MergedAndUnmergedForwardAgreeAndUnmergeRestoresTheWeight()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(Linear64(6, 5, 1), new LoraConfig { r = 2, lora_alpha = 3 });
        Randomize(lora, "default", 30);
        Tensor x = TestData.Randn(6, 4, 6);
        double[] original = ToDoubles(lora.weight);
        Tensor unmerged = lora.call(x);

        lora.merge();
        Assert.True(lora.merged);
        AssertRelative(unmerged, lora.call(x), 1e-10, "merged forward");
        Matrix<double> expectedW = M(TestData.Randn(1, 5, 6)) + lora.scaling["default"] * M(lora.lora_B["default"]) * M(lora.lora_A["default"]);
        TestData.AssertClose(expectedW.ToRowMajorArray(), lora.weight, 1e-12);

        lora.unmerge();
        Assert.False(lora.merged);
        TestData.AssertClose(original, lora.weight, 1e-12);
        AssertRelative(unmerged, lora.call(x), 1e-12, "unmerged forward");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void UnmergeGivesTheBaseWeightBackBitForBit(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(new Linear(24, 16, dtype: dtype), new LoraConfig { r = 4, lora_alpha = 8 });
        lora.update_layer("second", new LoraConfig { r = 2, lora_alpha = 2 });
        Randomize(lora, "default", 70);
        Randomize(lora, "second", 72);
        float[] original = Floats(lora.weight);

        // The independent truth that subtraction alone is not enough: W + ΔW − ΔW rounded to the base dtype loses bits.
        Tensor delta = lora.get_delta_weight("default");
        Tensor roundTrip = ((lora.weight.to(ScalarType.Float32) + delta).to(dtype).to(ScalarType.Float32) - delta).to(dtype);
        Assert.NotEqual(original, Floats(roundTrip));

        lora.merge(adapter_names: ["default", "second"]);
        Assert.NotEqual(original, Floats(lora.weight));
        lora.unmerge();
        Assert.Equal(original, Floats(lora.weight));   // float equality of every element: the same bits (no NaN here)

        // Edited while merged: the current ΔW is subtracted, as PEFT does (exact up to rounding, not bit for bit).
        lora.merge();
        Fill(lora.weight, lora.weight + 1);
        Tensor expected = lora.weight.to(ScalarType.Float64) - lora.get_delta_weight("default").to(ScalarType.Float64);
        lora.unmerge();
        AssertRelative(expected, lora.weight.to(ScalarType.Float64), dtype == ScalarType.BFloat16 ? 1e-2 : 1e-6, "unmerge after an edit");
    }

    private static float[] Floats(Tensor t) => t.to(ScalarType.Float32).ToArray<float>();

    [Fact]
    public void DropoutActsOnTheLoraPathOnly()
    {
        using var scope = NewDisposeScope();
        // One input feature and rank 1: each row's LoRA term is either dropped (0) or s·B A x / (1 − p).
        using var lora = new LoraLinear(Linear64(1, 2, 1), new LoraConfig { r = 1, lora_alpha = 1, lora_dropout = 0.5 });
        Tensor x = TestData.Randn(40, 200, 1);
        Tensor baseOutput = F.linear(x, lora.weight, ((Linear)lora.base_layer).bias);
        Assert.Equal(ToDoubles(baseOutput), ToDoubles(lora.call(x)));   // B = 0: nothing reaches the output, base untouched

        Randomize(lora, "default", 41);
        double[] term = ToDoubles(lora.call(x) - baseOutput);
        double[] full = ToDoubles((lora.lora_B["default"].mm(lora.lora_A["default"]) * 2.0).mm(x.t()).t());
        int kept = 0, dropped = 0;
        for (int i = 0; i < term.Length; i += 2)
        {
            bool isZero = Math.Abs(term[i]) < 1e-14 && Math.Abs(term[i + 1]) < 1e-14;
            bool isFull = Math.Abs(term[i] - full[i]) < 1e-12 && Math.Abs(term[i + 1] - full[i + 1]) < 1e-12;
            Assert.True(isZero ^ isFull, $"row {i / 2}: the LoRA term is neither dropped nor scaled by 1/(1 − p)");
            if (isZero) dropped++; else kept++;
        }
        Assert.InRange(dropped, 60, 140);                      // Binomial(200, ½): ±5.7σ
        lora.eval();
        TestData.AssertClose(ToDoubles(baseOutput + F.linear(F.linear(x, lora.lora_A["default"]), lora.lora_B["default"])), lora.call(x), 1e-12);
    }

    [Fact]
    public void BiasSettingDecidesWhetherTheBaseBiasTrains()
    {
        using var none = new LoraLinear(Linear64(3, 3, 1), new LoraConfig { r = 2 });
        using var loraOnly = new LoraLinear(Linear64(3, 3, 1), new LoraConfig { r = 2, bias = LoraBias.LoraOnly });
        Assert.False(((Linear)none.base_layer).bias!.requires_grad);
        Assert.True(((Linear)loraOnly.base_layer).bias!.requires_grad);
        Assert.False(loraOnly.weight.requires_grad);
    }

    [Fact]
    public void AdaptersSwitchAndDisable()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(Linear64(4, 3, 1), new LoraConfig { r = 2, lora_alpha = 2 }, "first");
        lora.update_layer("second", new LoraConfig { r = 1, lora_alpha = 3 });
        Randomize(lora, "first", 50);
        Randomize(lora, "second", 52);
        Tensor x = TestData.Randn(7, 5, 4);
        Matrix<double> xs = M(x), w = M(lora.weight);
        Vector<double> bias = Vector<double>.Build.DenseOfArray(ToDoubles(((Linear)lora.base_layer).bias!));
        double[] Expected(params string[] adapters)
        {
            Matrix<double> total = w.Clone();
            foreach (string name in adapters) total += lora.scaling[name] * M(lora.lora_B[name]) * M(lora.lora_A[name]);
            Matrix<double> y = xs * total.Transpose();
            for (int i = 0; i < y.RowCount; i++) y.SetRow(i, y.Row(i) + bias);
            return y.ToRowMajorArray();
        }

        Assert.Equal(["first"], lora.active_adapters);
        Assert.False(lora.lora_A["second"].requires_grad);
        TestData.AssertClose(Expected("first"), lora.call(x), 1e-12);
        lora.set_adapter("second");
        Assert.True(lora.lora_A["second"].requires_grad);
        Assert.False(lora.lora_A["first"].requires_grad);
        TestData.AssertClose(Expected("second"), lora.call(x), 1e-12);
        lora.set_adapter("first", "second");
        TestData.AssertClose(Expected("first", "second"), lora.call(x), 1e-12);

        lora.merge(adapter_names: ["first"]);
        TestData.AssertClose(Expected("first", "second"), lora.call(x), 1e-12);
        lora.enable_adapters(false);                           // unmerges, then computes the base alone
        Assert.False(lora.merged);
        TestData.AssertClose(Expected(), lora.call(x), 1e-12);
        lora.enable_adapters(true);
        TestData.AssertClose(Expected("first", "second"), lora.call(x), 1e-12);
    }

    [Fact]
    public void SafeMergeRefusesNonFiniteWeights()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(Linear64(3, 3, 1), new LoraConfig { r = 1 });
        Randomize(lora, "default", 60);
        using (no_grad()) lora.lora_A["default"].fill_(double.NaN);
        double[] before = ToDoubles(lora.weight);

        var error = Assert.Throws<InvalidOperationException>(() => lora.merge(safe_merge: true));
        Assert.Contains("'default'", error.Message);
        Assert.Equal(before, ToDoubles(lora.weight));
        Assert.False(lora.merged);
        lora.merge();
        Assert.True(ToDoubles(lora.weight).All(double.IsNaN));
    }

    private static LoraLinear LowPrecision(ScalarType dtype, int seed)
    {
        var linear = new Linear(8, 6, dtype: ScalarType.Float32);
        linear.to(dtype);
        var lora = new LoraLinear(linear, new LoraConfig { r = 2, lora_alpha = 2 });
        Randomize(lora, "default", seed);
        return lora;
    }

    [Fact]
    public void BFloat16BaseRunsInItsDtypeWithFloat32Adapters()
    {
        using var scope = NewDisposeScope();
        using var lora = LowPrecision(ScalarType.BFloat16, 70);
        Assert.Equal(ScalarType.BFloat16, lora.weight.dtype);
        Assert.Equal(ScalarType.Float32, lora.lora_A["default"].dtype);
        Tensor x = TestData.Randn(71, 5, 8).to(ScalarType.Float32);

        Tensor y = lora.call(x);
        Assert.Equal(ScalarType.Float32, y.dtype);
        Tensor basePath = F.linear(x.to(ScalarType.BFloat16), lora.weight, ((Linear)lora.base_layer).bias).to(ScalarType.Float32);
        Tensor loraPath = F.linear(F.linear(x, lora.lora_A["default"]), lora.lora_B["default"]);
        AssertRelative(basePath + loraPath, y, 1e-6, "bf16 base + float32 LoRA");
    }

    [Theory]
    [InlineData(ScalarType.BFloat16, 8)]
    [InlineData(ScalarType.Float16, 11)]
    public void LowPrecisionBaseMergesInFloat32(ScalarType dtype, int significandBits)
    {
        using var scope = NewDisposeScope();
        using var lora = LowPrecision(dtype, 72);
        Tensor w32 = lora.weight.to(ScalarType.Float32);
        Tensor delta = lora.get_delta_weight("default");
        Assert.Equal(ScalarType.Float32, delta.dtype);
        lora.merge();
        // One rounding of the float32 sum, not a sum of low-precision roundings.
        Assert.Equal(ToDoubles((w32 + delta).to(dtype)), ToDoubles(lora.weight));
        lora.unmerge();
        // Two roundings with unit roundoff u = 2^−p: |W'' − W| ≤ u (max|W + ΔW| + max|W|).
        double u = Math.Pow(2, -significandBits), bound = u * (ToDoubles(w32 + delta).Max(Math.Abs) + ToDoubles(w32).Max(Math.Abs));
        double worst = ToDoubles(w32).Zip(ToDoubles(lora.weight), (p, q) => Math.Abs(p - q)).Max();
        Assert.InRange(worst, 0, bound);
    }

    [Fact]
    public void ResetRedrawsTheFactors()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(Linear64(6, 4, 1), new LoraConfig { r = 2, init_lora_weights = LoraInit.Orthogonal });
        Randomize(lora, "default", 80);
        lora.reset_lora_parameters("default");
        Assert.All(ToDoubles(lora.lora_B["default"]), v => Assert.Equal(0.0, v));
        Matrix<double> a = M(lora.lora_A["default"]);
        Assert.True((a * a.Transpose() - Matrix<double>.Build.DenseIdentity(2)).InfinityNorm() < 1e-12);
    }
}
