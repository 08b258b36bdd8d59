using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests.Quantization;

/// <summary>QuantizedLinear/QuantizedConv2d: forward against the plain op on the dequantized weight, gradients, the
/// re-quantization fixed point, state-dict keys and a safetensors round trip, and bad input.</summary>
public sealed class QuantizedLinearTests
{
    public static TheoryData<string, bool> Formats => new()
    {
        { QuantizationConfig.BFloat16, false }, { QuantizationConfig.Int8, false }, { QuantizationConfig.NF4, false }, { QuantizationConfig.NF4, true },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Forward_is_the_linear_map_of_the_dequantized_weight_and_gradients_reach_only_the_input_and_bias(string type, bool doubleQuant)
    {
        using var scope = torch.NewDisposeScope();
        using QuantizedLinear layer = Layer(type, doubleQuant);
        layer.bias!.requires_grad = true;
        Tensor x = TestData.Randn(1, 5, 128).to(ScalarType.Float32).requires_grad_(true);
        Tensor y = layer.call(x);
        Tensor w = layer.dequantize();
        Assert.False(w.requires_grad);
        Assert.True(torch.allclose(y, F.linear(x, w, layer.bias), rtol: 1e-5, atol: 1e-6));

        Tensor g = TestData.Randn(2, 5, 16).to(ScalarType.Float32);
        y.backward(g);
        Assert.True(torch.allclose(x.grad!, g.mm(w), rtol: 1e-5, atol: 1e-6));   // dL/dx = g W
        Assert.True(torch.allclose(layer.bias.grad!, g.sum([0]), rtol: 1e-5, atol: 1e-6));
        Assert.All(layer.buffers(), b => Assert.Null(b.grad));
        Assert.Equal(layer.weight_shape, w.shape);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Requantizing_the_dequantized_weight_is_a_fixed_point(string type, bool doubleQuant)
    {
        using var scope = torch.NewDisposeScope();
        using QuantizedLinear layer = Layer(type, doubleQuant);
        Tensor[] before = layer.quantized_state().Select(t => t.clone()).ToArray();
        Tensor weightBefore = layer.dequantize();
        layer.requantize_(weightBefore);
        Tensor[] after = layer.quantized_state().ToArray();
        if (!doubleQuant)
        {
            for (int i = 0; i < before.Length; i++) Assert.True(Same(before[i], after[i]), $"state tensor {i} changed");
            return;
        }
        // The block maxima are levels ±1 times their scale, so the codes repeat; the scales' mean (the nested offset)
        // moves, so each scale may move by up to one step of its 8-bit code, nested_absmax / 127.
        Assert.True(Same(before[0], after[0]), "the NF4 codes changed");
        double step = layer.state_dict()["weight.nested_absmax"].max().item<float>() / 127.0;
        Assert.InRange((layer.dequantize() - weightBefore).abs().max().item<float>(), 0, step * 1.01);
    }

    [Fact]
    public void Nf4_storage_is_an_eighth_of_float32_plus_one_scale_per_block()
    {
        using QuantizedLinear nf4 = Layer(QuantizationConfig.NF4, false), dq = Layer(QuantizationConfig.NF4, true);
        using QuantizedLinear int8 = Layer(QuantizationConfig.Int8, false), bf16 = Layer(QuantizationConfig.BFloat16, false);
        const long n = 16 * 128;
        Assert.Equal(n / 2 + 16 * 4 + n / 64 * 4, nf4.weight_bytes);                          // codes, level map, absmax
        Assert.Equal(n / 2 + 16 * 4 + n / 64 + 4 + 256 * 4 + 4, dq.weight_bytes);             // codes, map, 8-bit absmax, nested absmax, nested map, offset
        Assert.Equal(n + 16 * 4, int8.weight_bytes);
        Assert.Equal(2 * n, bf16.weight_bytes);
    }

    [Fact]
    public void State_dict_uses_bitsandbytes_keys_and_survives_a_safetensors_round_trip()
    {
        using var scope = torch.NewDisposeScope();
        using QuantizedLinear source = Layer(QuantizationConfig.NF4, true);
        OrderedDictionary<string, Tensor> state = source.state_dict();
        Assert.Equal(["bias", "weight", "weight.quant_map", "weight.absmax", "weight.nested_absmax", "weight.nested_quant_map",
            "weight.nested_offset", "weight.quant_state.bitsandbytes__nf4"], state.Keys.ToArray());
        string json = System.Text.Encoding.UTF8.GetString(state["weight.quant_state.bitsandbytes__nf4"].ToArray<byte>());
        Assert.Contains("\"quant_type\":\"nf4\"", json);
        Assert.Contains("\"blocksize\":64", json);

        Dictionary<string, Tensor> loaded = SafeTensors.load(SafeTensors.save(state));
        using QuantizedLinear target = Layer(QuantizationConfig.NF4, true, seed: 9);
        Assert.False(Same(target.dequantize(), source.dequantize()));
        target.load_state_dict(loaded);
        Assert.True(Same(target.dequantize(), source.dequantize()));
        Assert.True(Same(target.bias!, source.bias!));
    }

    [Fact]
    public void Int8_state_dict_holds_weight_and_SCB()
    {
        using var scope = torch.NewDisposeScope();
        using QuantizedLinear layer = Layer(QuantizationConfig.Int8, false);
        OrderedDictionary<string, Tensor> state = layer.state_dict();
        Assert.Equal(["bias", "weight", "SCB"], state.Keys.ToArray());
        Assert.Equal(ScalarType.Int8, state["weight"].dtype);
    }

    [Fact]
    public void Quantized_conv2d_convolves_with_the_dequantized_kernel()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var conv = new Conv2d(8, 4, 3, padding: 1);
        using var layer = new QuantizedConv2d(conv, new QuantizationConfig { blocksize = 72 });
        Tensor x = TestData.Randn(4, 2, 8, 5, 5).to(ScalarType.Float32);
        Tensor expected = F.conv2d(x, layer.dequantize(), layer.bias, [1, 1], [1, 1], [1, 1], 1);
        Assert.True(torch.allclose(layer.call(x), expected, rtol: 1e-5, atol: 1e-6));
        double error = (layer.dequantize() - conv.weight).abs().max().item<float>();
        Assert.InRange(error, 1e-6, 0.2 * conv.weight.abs().max().item<float>());
    }

    [Fact]
    public void Bad_settings_are_rejected_with_the_reason()
    {
        using var linear = new Linear(100, 4);
        var unsupported = Assert.Throws<ArgumentException>(() => new QuantizedLinear(linear, new QuantizationConfig { quant_type = "fp8" }));
        Assert.Contains("unsupported quantization type 'fp8'", unsupported.Message);
        var block = Assert.Throws<ArgumentException>(() => new QuantizedLinear(linear, new QuantizationConfig()));
        Assert.Contains("block size 64 does not divide", block.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizedLinear(linear, new QuantizationConfig { blocksize = 3 }));
        var compute = Assert.Throws<ArgumentException>(() => new QuantizedLinear(linear, new QuantizationConfig { quant_type = "int8", compute_dtype = ScalarType.Int32 }));
        Assert.Contains("compute dtype", compute.Message);
        using var layer = new QuantizedLinear(linear, new QuantizationConfig { quant_type = "int8" });
        using Tensor wrong = torch.zeros([4, 99]);
        Assert.Throws<ArgumentException>(() => layer.requantize_(wrong));
        using Tensor x = torch.zeros([2, 99]);
        Assert.Throws<ArgumentException>(() => layer.call(x));
    }

    [Theory]
    [InlineData(QuantizationConfig.Int8, false)]
    [InlineData(QuantizationConfig.NF4, false)]
    [InlineData(QuantizationConfig.NF4, true)]
    public void NaN_or_infinite_weights_are_refused_naming_the_layer_and_the_count(string type, bool doubleQuant)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        using var linear = new Linear(128, 16);
        using (torch.no_grad())
        {
            linear.weight.view(-1).narrow(0, 3, 1).fill_(double.NaN);
            linear.weight.view(-1).narrow(0, 200, 1).fill_(double.NegativeInfinity);
        }
        var config = new QuantizationConfig { quant_type = type, use_double_quant = doubleQuant };

        var error = Assert.Throws<ArgumentException>(() => new QuantizedLinear(linear, config));
        Assert.StartsWith($"weight of a Linear(128 -> 16) holds 1 NaN and 1 ±∞ of its 2048 values: {type} cannot quantize NaN or ±∞", error.Message);

        using QuantizedLinear layer = Layer(type, doubleQuant);
        Tensor[] before = layer.quantized_state().Select(t => t.clone()).ToArray();
        var merge = Assert.Throws<ArgumentException>(() => layer.requantize_(linear.weight));
        Assert.StartsWith("requantize_: the new weight of a Linear(128 -> 16) holds 1 NaN and 1 ±∞", merge.Message);
        Assert.All(before.Zip(layer.quantized_state()), pair => Assert.True(Same(pair.First, pair.Second)));
    }

    private static bool Same(Tensor a, Tensor b)
    {
        using var scope = torch.NewDisposeScope();
        return a.shape.AsSpan().SequenceEqual(b.shape) && (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max().item<double>() == 0;
    }

    private static QuantizedLinear Layer(string type, bool doubleQuant, int seed = 7)
    {
        torch.manual_seed((ulong)seed);
        using var linear = new Linear(128, 16);
        return new QuantizedLinear(linear, new QuantizationConfig { quant_type = type, use_double_quant = doubleQuant });
    }
}
