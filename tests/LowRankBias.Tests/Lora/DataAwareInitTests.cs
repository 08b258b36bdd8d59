using LowRankBias.Lora;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.IO;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

/// <summary>PiSSA, fast PiSSA, OLoRA and LoftQ against tests/fixtures/lora_init/make_inits.py (PEFT's pissa_init,
/// olora_init and loftq_init re-done in python-torch, float64), plus the invariants they promise.</summary>
public sealed class DataAwareInitTests
{
    private const int Rank = 4;
    private const double Alpha = 6; // scaling 1.5, as in the fixture

    private static Dictionary<string, Tensor> Fixture() =>
        SafeTensors.load_file(Path.Combine(AppContext.BaseDirectory, "fixtures", "lora_init", "lora_init.safetensors"));

    private static Linear LinearWith(Tensor weight, bool bias = false)
    {
        var linear = new Linear(weight.size(1), weight.size(0), bias, dtype: F64);
        Fill(linear.weight, weight);
        if (linear.bias is not null) using (NewDisposeScope()) Fill(linear.bias, TestData.Randn(5, weight.size(0)));
        return linear;
    }

    // Factors are unique up to the sign of each rank-one component: make the largest entry of each row of A positive.
    private static (Tensor a, Tensor b) SignNormalized(Tensor a, Tensor b)
    {
        Tensor sign = a.gather(1, a.abs().argmax(1, keepdim: true)).sign();
        return (a * sign, b * sign.t());
    }

    [Theory]
    [InlineData(LoraInit.Pissa)]
    [InlineData(LoraInit.Olora)]
    [InlineData("pissa_niter_2")]
    public void FactorsProductAndResidualMatchPeft(string init)
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> f = Fixture();
        Linear linear = LinearWith(f["linear.W"]);
        manual_seed(1234); // the fixture drew svd_lowrank's test matrix right after torch.manual_seed(1234)
        using var lora = new LoraLinear(linear, new LoraConfig { r = Rank, lora_alpha = Alpha, init_lora_weights = init });
        Tensor a = lora.lora_A["default"], b = lora.lora_B["default"];
        Tensor expectedA = f[$"{init}.A"], expectedB = f[$"{init}.B"];
        AssertRelative(expectedB.mm(expectedA), b.mm(a), 1e-10, "B·A");
        AssertRelative(f[$"{init}.residual"], lora.weight, 1e-10, "residual base weight");
        (Tensor na, Tensor nb) = SignNormalized(a, b);
        (Tensor ea, Tensor eb) = SignNormalized(expectedA, expectedB);
        AssertRelative(ea, na, 1e-9, "A up to signs");
        AssertRelative(eb, nb, 1e-9, "B up to signs");
    }

    [Theory]
    [InlineData(LoraInit.Pissa, ScalarType.Float64, 1e-12)]
    [InlineData("pissa_niter_3", ScalarType.Float64, 1e-12)]
    [InlineData(LoraInit.Olora, ScalarType.Float64, 1e-12)]
    [InlineData(LoraInit.Pissa, ScalarType.Float32, 2e-6)]
    [InlineData(LoraInit.Olora, ScalarType.Float32, 2e-6)]
    public void OutputIsUnchangedAtInit(string init, ScalarType dtype, double tolerance)
    {
        using var scope = NewDisposeScope();
        Linear linear = Linear64(20, 12, 40);
        linear.to(dtype);
        Tensor x = TestData.Randn(41, 5, 20).to(dtype);
        Tensor before = linear.call(x).detach().clone();
        using var lora = new LoraLinear(linear, new LoraConfig { r = 3, lora_alpha = 5, use_rslora = true, init_lora_weights = init });
        AssertRelative(before, lora.call(x), tolerance, init);
        Assert.True(lora.lora_B["default"].abs().max().to(F64).item<double>() > 0.1, "B is data-derived, not zero");
    }

    [Fact]
    public void FastPissaIsNearTheBestRankRFit()
    {
        using var scope = NewDisposeScope();
        Tensor w = Fixture()["linear.W"];
        var config = new LoraConfig { r = Rank, lora_alpha = Alpha, init_lora_weights = LoraInit.Pissa };
        double Residual(string init)
        {
            using var lora = new LoraLinear(LinearWith(w), config with { init_lora_weights = init });
            return linalg.matrix_norm(lora.weight).item<double>();
        }
        manual_seed(3);
        double exact = Residual(LoraInit.Pissa), one = Residual("pissa_niter_1"), eight = Residual("pissa_niter_8");
        // Eckart–Young: no rank-r split leaves less than the full SVD's residual. Subspace iteration converges like
        // (σ_{r+1}/σ_r)^(2N+1) = 0.8^(2N+1) on this spectrum: 8 iterations are within 1e-3 of optimal, 1 is not that close.
        Assert.True(one >= exact * (1 - 1e-12) && eight >= exact * (1 - 1e-12), $"{one} / {eight} below the optimum {exact}");
        Assert.True(eight <= exact * (1 + 1e-2), $"pissa_niter_8 residual {eight} vs optimal {exact}");
        Assert.True(one > eight, $"pissa_niter_1 ({one}) should fit worse than pissa_niter_8 ({eight})");
    }

    [Fact]
    public void FastPissaAtFullRankOfATallWeightTakesAllOfIt()
    {
        // r = in = 6 < out: svd_lowrank's other branch (a basis of A's range, m ≥ n = q), exact at full rank.
        using var scope = NewDisposeScope();
        Linear linear = Linear64(6, 30, 8, bias: false);
        Tensor w = linear.weight.detach().clone();
        using var lora = new LoraLinear(linear, new LoraConfig { r = 6, lora_alpha = 2, init_lora_weights = "pissa_niter_1" });
        AssertRelative(w, lora.get_delta_weight("default"), 1e-12, "s·B·A");
        Assert.True(lora.weight.abs().max().item<double>() < 1e-12 * w.abs().max().item<double>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void LoftQMatchesPeftAlgorithmWithOurNf4(int iterations)
    {
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> f = Fixture();
        var net = new OneLinear(LinearWith(f["loftq.W"]));
        var config = new LoraConfig
        {
            r = Rank, lora_alpha = Rank, init_lora_weights = LoraInit.LoftQ, loftq_config = new LoftQConfig { loftq_iter = iterations },
            base_quantization = new QuantizationConfig { compute_dtype = F64 }, target_modules = "fc",
        };
        using var model = new LoraModel(net, config);
        var layer = (LoraLinear)net.fc;
        Tensor a = layer.lora_A["default"], b = layer.lora_B["default"], q = layer.quantized_base!.dequantize(F64);
        string key = $"loftq_iter{iterations}";
        AssertRelative(f[$"{key}.residual"], q, 1e-6, "quantized base");
        AssertRelative(f[$"{key}.B"].mm(f[$"{key}.A"]), b.mm(a), 1e-6, "B·A");
        // LoftQ's point: Q + B A is closer to W than plain NF4 of W (QLoRA's start).
        using var plain = new QuantizedLinear(LinearWith(f["loftq.W"]), new QuantizationConfig());
        double qlora = linalg.matrix_norm(f["loftq.W"] - plain.dequantize(F64)).item<double>();
        double loftq = linalg.matrix_norm(f["loftq.W"] - q - b.mm(a)).item<double>();
        Assert.True(loftq < 0.9 * qlora, $"LoftQ error {loftq} vs NF4 error {qlora}");
    }

    [Fact]
    public void PissaOnAFreshlyQuantizedBaseQuantizesTheResidual()
    {
        using var scope = NewDisposeScope();
        Tensor w = Fixture()["loftq.W"];
        var quantization = new QuantizationConfig { compute_dtype = F64 };
        var net = new OneLinear(LinearWith(w));
        using var model = new LoraModel(net, new LoraConfig { r = Rank, lora_alpha = Rank, init_lora_weights = LoraInit.Pissa, base_quantization = quantization, target_modules = "fc" });
        var layer = (LoraLinear)net.fc;
        Tensor effective = layer.quantized_base!.dequantize(F64) + layer.get_delta_weight("default");
        using var plain = new QuantizedLinear(LinearWith(w), quantization);
        double qpissa = linalg.matrix_norm(w - effective).item<double>(), qlora = linalg.matrix_norm(w - plain.dequantize(F64)).item<double>();
        // The residual lacks W's top singular directions, so its blocks' scales (and NF4 errors) are smaller.
        Assert.True(qpissa < qlora, $"QPiSSA error {qpissa} vs NF4 error {qlora}");
    }

    [Fact]
    public void OloraOnABaseQuantizedBeforehandWorksOnItsDequantizedWeight()
    {
        // PEFT's olora_init dequantizes a bitsandbytes base, splits it and quantizes the residual again: the layer then
        // differs from before only by the residual's rounding, which is smaller than the base's own NF4 error.
        using var scope = NewDisposeScope();
        Tensor w = Fixture()["loftq.W"];
        using var quantized = new QuantizedLinear(LinearWith(w), new QuantizationConfig { compute_dtype = F64 });
        Tensor before = quantized.dequantize(F64);
        using var lora = new LoraLinear(quantized, new LoraConfig { r = Rank, lora_alpha = Rank, init_lora_weights = LoraInit.Olora });
        Tensor after = quantized.dequantize(F64) + lora.get_delta_weight("default");
        double change = linalg.matrix_norm(after - before).item<double>(), nf4 = linalg.matrix_norm(w - before).item<double>();
        Assert.True(change > 0 && change < nf4, $"change {change} vs the base's NF4 error {nf4}");
    }

    [Fact]
    public void SvdLowrankRefusesWhatItCannotCompute()
    {
        using var scope = NewDisposeScope();
        Tensor m = TestData.Randn(2, 5, 3);
        Assert.Contains("q", Assert.Throws<ArgumentOutOfRangeException>(() => svd_lowrank(m, q: 4)).ParamName);
        Assert.Contains("niter", Assert.Throws<ArgumentOutOfRangeException>(() => svd_lowrank(m, q: 2, niter: -1)).ParamName);
        Assert.Throws<ArgumentException>(() => svd_lowrank(TestData.Randn(3, 2, 5, 3), q: 2));
    }

    [Theory]
    [InlineData("pissa_niter_0", "'0'")]
    [InlineData("pissa_niter_-2", "'-2'")]
    [InlineData("pissa_niter_x", "'x'")]
    [InlineData("pissa_niter_", "''")]
    [InlineData("PiSSA", "pissa_niter_N")]
    [InlineData("loftQ", "loftq")]
    public void BadInitNamesAreRefusedNamingTheValue(string init, string mentioned)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new LoraConfig { init_lora_weights = init }.Validate());
        Assert.Contains(init, e.Message);
        Assert.Contains(mentioned, e.Message);
    }

    [Fact]
    public void LoftQNeedsAnNf4BaseQuantization()
    {
        using var scope = NewDisposeScope();
        var config = new LoraConfig { r = 2, init_lora_weights = LoraInit.LoftQ, target_modules = "fc" };
        var net = new OneLinear(Linear64(64, 8, 1));
        Tensor before = net.fc.parameters().First().clone();
        var none = Assert.ThrowsAny<ArgumentException>(() => new LoraModel(net, config));
        Assert.Contains("base_quantization", none.Message);
        Assert.Contains("loftq", none.Message);
        var int8 = Assert.ThrowsAny<ArgumentException>(() => new LoraModel(net, config with { base_quantization = new QuantizationConfig { quant_type = QuantizationConfig.Int8 } }));
        Assert.Contains("nf4", int8.Message);
        Assert.IsType<Linear>(net.fc);
        Assert.Equal(ToDoubles(before), ToDoubles(net.fc.parameters().First()));
        // A base quantized beforehand has lost the full-precision weight LoftQ fits.
        using var quantized = new QuantizedLinear(Linear64(64, 8, 1), new QuantizationConfig());
        var late = Assert.ThrowsAny<ArgumentException>(() => new LoraLinear(quantized, config));
        Assert.Contains("full-precision", late.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => (config with { loftq_config = new LoftQConfig { loftq_bits = 8 } }).Validate());
    }

    [Fact]
    public void LayersPeftDoesNotInitialiseFromDataAreRefusedByName()
    {
        using var scope = NewDisposeScope();
        var pissa = new LoraConfig { r = 2, init_lora_weights = LoraInit.Pissa };
        Assert.Contains("Conv2d", Assert.ThrowsAny<ArgumentException>(() => new LoraConv2d(new Conv2d(3, 4, 3, dtype: F64), pissa)).Message);
        Assert.Contains("Embedding", Assert.ThrowsAny<ArgumentException>(() => new LoraEmbedding(new Embedding(10, 4, dtype: F64), pissa with { init_lora_weights = LoraInit.Olora })).Message);
        Assert.Contains("multi-head", Assert.ThrowsAny<ArgumentException>(() => new MultiHeadLoraLinear(Linear64(6, 6, 1), pissa with { num_heads = 2 })).Message);
        using var quantized = new QuantizedLinear(Linear64(64, 8, 1), new QuantizationConfig());
        Assert.Contains("full-precision", Assert.ThrowsAny<ArgumentException>(() => new LoraLinear(quantized, pissa)).Message);
        Assert.Contains("r = 9", Assert.ThrowsAny<ArgumentException>(() => new LoraLinear(Linear64(8, 12, 1), pissa with { r = 9, allow_rank_above_min = true })).Message);
        using var lora = new LoraLinear(Linear64(8, 12, 1), pissa);
        Assert.Throws<InvalidOperationException>(() => lora.reset_lora_parameters("default"));
        lora.merge();
        Assert.Contains("unmerge", Assert.Throws<InvalidOperationException>(() => lora.update_layer("second", pissa)).Message);
    }

    [Fact]
    public void AFailedLoadLeavesEveryBaseWeightAsItWas()
    {
        // Loading a PiSSA adapter re-derives the residual (as PEFT does) before the file is checked; a file that then
        // does not fit must leave the model's weights bit for bit as they were.
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        var pissa = new LoraConfig { r = 2, init_lora_weights = LoraInit.Pissa, target_modules = new[] { "fc1", "fc2" } };
        using (var lora = new LoraModel(new TokenNet(), pissa)) lora.save_pretrained(dir.Path);
        string file = Path.Combine(dir.Path, LoraModel.WeightsFileName);
        Dictionary<string, Tensor> tensors = SafeTensors.load_file(file);
        tensors["base_model.model.blocks.1.fc2.lora_A.weight"] = zeros([3, 10], F64);
        SafeTensors.save_file(tensors, file);
        var net = new TokenNet();
        Tensor[] before = net.parameters().Select(p => p.clone()).ToArray();
        Assert.Throws<InvalidDataException>(() => LoraModel.from_pretrained(net, dir.Path));
        Assert.All(net.parameters().Zip(before), p => Assert.Equal(ToDoubles(p.Second), ToDoubles(p.First)));
        Assert.IsType<Linear>(((Block)net.blocks[0]).fc1);
    }

    [Theory]
    [InlineData(LoraInit.Pissa, false)]
    [InlineData(LoraInit.Olora, true)]
    public void AConvertedAdapterOnTheOriginalBaseReproducesTheTrainedModel(string init, bool rslora)
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        string initial = Path.Combine(dir.Path, "initial"), converted = Path.Combine(dir.Path, "converted");
        var config = new LoraConfig { r = 2, lora_alpha = 3, use_rslora = rslora, init_lora_weights = init, target_modules = new[] { "fc1", "fc2", "head" } };
        Tensor tokens = TokenNet.Tokens(7, 4, 5);
        using var lora = new LoraModel(new TokenNet(), config);
        lora.save_pretrained(initial);
        int seed = 900;
        foreach ((_, LoraLayer layer) in lora.lora_layers()) // "training": move every factor
            foreach (Tensor factor in layer.lora_A.Values.Concat(layer.lora_B.Values)) Fill(factor, factor + TestData.Randn(seed++, factor.shape) * 0.1);
        Tensor trained = lora.call(tokens).detach().clone();
        lora.save_pretrained(converted, path_initial_model_for_weight_conversion: initial);

        LoraConfig written = LoraConfig.from_pretrained(converted);
        Assert.Equal((4, LoraInit.Kaiming), (written.r, written.init_lora_weights));
        Assert.Equal(rslora ? 3 * Math.Sqrt(2) : 6, written.lora_alpha, 12);
        var original = new TokenNet();
        Tensor plainOutput = original.call(tokens).detach().clone();
        using var reloaded = LoraModel.from_pretrained(original, converted);
        AssertRelative(trained, reloaded.call(tokens), 1e-10, "converted adapter on the original base");
        Assert.True((trained - plainOutput).abs().max().item<double>() > 1e-3, "training changed the output, so the comparison means something");

        // Unconverted, the adapter loads as in PEFT: its init re-derives the residual from the original base first.
        string asTrained = Path.Combine(dir.Path, "trained");
        lora.save_pretrained(asTrained);
        using var rederived = LoraModel.from_pretrained(new TokenNet(), asTrained);
        AssertRelative(trained, rederived.call(tokens), 1e-10, "unconverted adapter on the original base");
    }

    [Fact]
    public void ConversionRefusesAnInitialAdapterThatDoesNotMatch()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        var config = new LoraConfig { r = 2, init_lora_weights = LoraInit.Pissa, target_modules = new[] { "fc1" } };
        using var lora = new LoraModel(new TokenNet(), config);
        using (var other = new LoraModel(new TokenNet(), config with { r = 1 })) other.save_pretrained(Path.Combine(dir.Path, "other"));
        string target = Path.Combine(dir.Path, "out");
        Assert.Throws<InvalidDataException>(() => lora.save_pretrained(target, path_initial_model_for_weight_conversion: Path.Combine(dir.Path, "other")));
        Assert.False(Directory.Exists(target) && Directory.EnumerateFiles(target).Any(), "nothing is written when the conversion fails");
        using var patterned = new LoraModel(new TokenNet(), config with { use_rslora = true, rank_pattern = new Dictionary<string, int> { ["blocks.0.fc1"] = 1 } });
        var e = Assert.Throws<ArgumentException>(() => patterned.save_pretrained(target, path_initial_model_for_weight_conversion: dir.Path));
        Assert.Contains("path_initial_model_for_weight_conversion", e.Message);
    }

    [Fact]
    public void ConfigJsonKeepsTheInitAndLoftQSettings()
    {
        var config = new LoraConfig { r = 4, init_lora_weights = LoraInit.LoftQ, loftq_config = new LoftQConfig { loftq_iter = 5 } };
        LoraConfig back = LoraConfig.from_json_string(config.to_json_string());
        Assert.Equal(LoraInit.LoftQ, back.init_lora_weights);
        Assert.Equal(5, back.loftq_config!.loftq_iter);
        Assert.Equal("pissa_niter_16", LoraConfig.from_json_string((config with { init_lora_weights = "pissa_niter_16" }).to_json_string()).init_lora_weights);
        // PEFT writes loftq_config as {} when LoftQ is not used.
        string peft = """{"peft_type": "LORA", "r": 2, "lora_alpha": 8, "init_lora_weights": "olora", "loftq_config": {}}""";
        Assert.Null(LoraConfig.from_json_string(peft).loftq_config);
        string bad = config.to_json_string().Replace("\"loftq\"", "\"pissa_niter_0\"");
        var e = Assert.Throws<InvalidDataException>(() => LoraConfig.from_json_string(bad, "x/adapter_config.json"));
        Assert.Contains("init_lora_weights", e.Message);
        Assert.Contains("pissa_niter_0", e.Message);
    }

    /// <summary>A model with one Linear at path "fc".</summary>
    private sealed class OneLinear(Module fc) : Module
    {
        public Module fc = fc;

        public override Tensor forward(Tensor input) => fc.call(input);
    }
}
