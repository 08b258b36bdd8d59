using System.Text.Json;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;

namespace LowRankBias.Torch.Tests.Quantization;

/// <summary>
/// Checks the NF4 levels, codes, scales and round-trip errors (and int8's and bf16's) against
/// tests/fixtures/quantization/quantization_reference.json, computed by make_quantization_reference.py from the
/// QLoRA and LLM.int8() papers with PyTorch 1.13 (NF4 levels from normal quantiles, not from a table).
/// </summary>
public sealed class QuantizationReferenceTests
{
    private static readonly JsonElement s_reference = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "fixtures", "quantization", "quantization_reference.json"))).RootElement;

    private static readonly long Rows = s_reference.GetProperty("shape")[0].GetInt64(), Cols = s_reference.GetProperty("shape")[1].GetInt64();

    [Fact]
    public void Nf4_levels_are_the_normal_quantiles_of_the_paper()
    {
        double[] expected = Doubles(s_reference.GetProperty("nf4_levels"));
        Assert.Equal(16, NormalFloat4.Levels.Count);
        for (int k = 0; k < 16; k++) Assert.Equal(expected[k], NormalFloat4.Levels[k], 1e-6);
    }

    [Fact]
    public void Nf4_codes_scales_and_error_match_the_reference()
    {
        using var scope = torch.NewDisposeScope();
        JsonElement nf4 = s_reference.GetProperty("nf4");
        using QuantizedLinear layer = Quantized(new QuantizationConfig());
        Dictionary<string, Tensor> state = layer.state_dict().ToDictionary(e => e.Key, e => e.Value);

        Assert.Equal(Codes4(nf4.GetProperty("codes_hex").GetString()!), Unpack(state["weight"]));
        AssertClose(Doubles(nf4.GetProperty("absmax")), state["weight.absmax"].to(ScalarType.Float64).ToArray<double>(), 0);
        Tensor restored = layer.dequantize();
        AssertClose(Doubles(nf4.GetProperty("dequantized_row0")), restored.select(0, 0).to(ScalarType.Float64).ToArray<double>(), 1e-7);
        AssertErrors(nf4, restored);
    }

    [Fact]
    public void Double_quantized_scales_match_the_reference()
    {
        using var scope = torch.NewDisposeScope();
        JsonElement dq = s_reference.GetProperty("nf4_double_quant");
        using QuantizedLinear layer = Quantized(new QuantizationConfig { use_double_quant = true });
        Dictionary<string, Tensor> state = layer.state_dict().ToDictionary(e => e.Key, e => e.Value);

        Assert.Equal(Codes8(dq.GetProperty("nested_codes_hex").GetString()!), state["weight.absmax"].to(ScalarType.Int64).ToArray<long>());
        AssertClose(Doubles(dq.GetProperty("nested_absmax")), state["weight.nested_absmax"].to(ScalarType.Float64).ToArray<double>(), 1e-9);
        Assert.Equal(dq.GetProperty("nested_offset").GetDouble(), state["weight.nested_offset"].item<float>(), 1e-8);
        AssertErrors(dq, layer.dequantize());
    }

    [Fact]
    public void Int8_codes_scales_and_error_match_the_reference()
    {
        using var scope = torch.NewDisposeScope();
        JsonElement int8 = s_reference.GetProperty("int8");
        using QuantizedLinear layer = Quantized(new QuantizationConfig { quant_type = QuantizationConfig.Int8 });
        Dictionary<string, Tensor> state = layer.state_dict().ToDictionary(e => e.Key, e => e.Value);

        Assert.Equal(Codes8(int8.GetProperty("codes_hex").GetString()!).Select(c => c - 128).ToArray(),
            state["weight"].to(ScalarType.Int64).reshape(-1).ToArray<long>());
        AssertClose(Doubles(int8.GetProperty("SCB")), state["SCB"].to(ScalarType.Float64).ToArray<double>(), 0);
        AssertErrors(int8, layer.dequantize());
    }

    [Fact]
    public void Bf16_error_matches_the_reference()
    {
        using var scope = torch.NewDisposeScope();
        using QuantizedLinear layer = Quantized(new QuantizationConfig { quant_type = QuantizationConfig.BFloat16 });
        Assert.Equal(ScalarType.BFloat16, layer.state_dict()["weight"].dtype);
        AssertErrors(s_reference.GetProperty("bf16"), layer.dequantize());
    }

    /// <summary>The fixture's weight: W[i] = 0.05·(u(i) + u(i+n) + u(i+2n) + u(i+3n) − 2), u(j) = (j·2654435761 mod 2³²)/2³²,
    /// block 5 zero, element 7 = 0.9 — exact in float64, so it equals the script's.</summary>
    internal static Tensor FixtureWeight()
    {
        long n = Rows * Cols;
        static double U(long j) => (double)((ulong)j * 2654435761UL % 4294967296UL) / 4294967296.0;
        var w = new float[n];
        for (long i = 0; i < n; i++) w[i] = (float)(0.05 * (U(i) + U(i + n) + U(i + 2 * n) + U(i + 3 * n) - 2));
        for (long i = 5 * 64; i < 6 * 64; i++) w[i] = 0;
        w[7] = 0.9f;
        return torch.tensor(w, [Rows, Cols]);
    }

    private static QuantizedLinear Quantized(QuantizationConfig config)
    {
        using var linear = new Linear(Cols, Rows, bias: false);
        using (torch.no_grad())
        using (Tensor w = FixtureWeight())
            linear.weight.copy_(w);
        return new QuantizedLinear(linear, config);
    }

    private static void AssertErrors(JsonElement expected, Tensor restored)
    {
        using var scope = torch.NewDisposeScope();
        Tensor error = restored.to(ScalarType.Float64) - FixtureWeight().to(ScalarType.Float64);
        Assert.Equal(expected.GetProperty("max_abs_error").GetDouble(), error.abs().max().item<double>(), 1e-9);
        Assert.Equal(expected.GetProperty("rms_error").GetDouble(), error.square().mean().sqrt().item<double>(), 1e-9);
    }

    // Packed bytes → codes, high nibble first (bitsandbytes' order).
    private static long[] Unpack(Tensor packed) =>
        packed.to(ScalarType.Int64).reshape(-1).ToArray<long>().SelectMany(b => new[] { b >> 4, b & 15 }).ToArray();

    private static long[] Codes4(string hex) => hex.Select(c => (long)Convert.ToInt32(c.ToString(), 16)).ToArray();

    private static long[] Codes8(string hex) => Enumerable.Range(0, hex.Length / 2).Select(i => (long)Convert.ToInt32(hex.Substring(2 * i, 2), 16)).ToArray();

    private static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }
}
