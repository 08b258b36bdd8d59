using System.Text;
using System.Text.Json;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Quantization;

/// <summary>
/// What <see cref="QuantizedLinear"/> and <see cref="QuantizedConv2d"/> share: a frozen weight held in a storage
/// format (<see cref="QuantizationConfig"/>), dequantized to <see cref="QuantizationConfig.compute_dtype"/> on the fly by
/// <see cref="dequantize"/>, and rewritten by <see cref="requantize_"/> (merges). The weight is a buffer, so no
/// gradient ever reaches it: gradients flow to the input, to a trainable bias, and to LoRA factors that wrap the layer.
/// NF4 and int8 refuse weights holding NaN or ±∞ (one would turn its block or row into NaN) with an
/// <see cref="ArgumentException"/> naming the layer.
/// <para>State-dict keys follow bitsandbytes: <c>weight</c> (bf16, int8 [out, …], or NF4 packed [n/2, 1] uint8),
/// int8's <c>SCB</c>, NF4's <c>weight.absmax</c>, <c>weight.quant_map</c>, <c>weight.quant_state.bitsandbytes__nf4</c>
/// (the JSON of quant_type, blocksize, dtype, shape as uint8 bytes) and with double quantization
/// <c>weight.nested_absmax</c>, <c>weight.nested_quant_map</c> and <c>weight.nested_offset</c> (bitsandbytes keeps the
/// offset in the JSON; here it is a tensor so the JSON keeps its length when a merge re-quantizes).</para>
/// </summary>
public abstract class QuantizedLayer : Module
{
    private readonly Tensor _storage;
    private readonly Tensor? _absmax, _quantMap, _nestedAbsmax, _nestedMap, _nestedOffset, _scb;
    private readonly string _layer;

    /// <summary>Quantizes <paramref name="weight"/> (its first dimension is the output) with <paramref name="config"/>;
    /// <paramref name="bias"/> is copied and keeps its requires_grad flag.</summary>
    private protected QuantizedLayer(Tensor weight, Tensor? bias, QuantizationConfig config, string layer)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (!weight.dtype.IsFloatingPoint())
            throw new ArgumentException($"cannot quantize a weight of dtype {weight.dtype}: floating-point weights only", nameof(weight));
        config.CheckRow(weight.numel() / weight.size(0), layer);
        _layer = layer;
        quant_config = config;
        RequireFinite(weight, "weight");
        weight_shape = weight.shape;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        switch (config.quant_type)
        {
            case QuantizationConfig.BFloat16:
                _storage = register_buffer("weight", weight.to(ScalarType.BFloat16).clone());
                break;
            case QuantizationConfig.Int8:
                (Tensor codes, Tensor scb) = QuantizedCodec.QuantizeInt8(weight);
                _storage = register_buffer("weight", codes);
                _scb = register_buffer("SCB", scb);
                break;
            default:
                (Tensor packed, Tensor absmax) = QuantizedCodec.QuantizeNF4(weight, config.blocksize);
                _storage = register_buffer("weight", packed);
                _quantMap = Keyed("quant_map", torch.tensor(NormalFloat4.Levels.ToArray()).to(weight.device));
                if (config.use_double_quant)
                {
                    (Tensor codesOfScales, Tensor nested, Tensor offset) = QuantizedCodec.QuantizeScales(absmax, config.nested_blocksize);
                    _absmax = Keyed("absmax", codesOfScales);
                    _nestedAbsmax = Keyed("nested_absmax", nested);
                    _nestedMap = Keyed("nested_quant_map", QuantizedCodec.NestedMap(weight.device));
                    _nestedOffset = Keyed("nested_offset", offset);
                }
                else _absmax = Keyed("absmax", absmax);
                register_buffer("quant_state", torch.tensor(QuantStateJson(config, weight_shape)).to(weight.device));
                set_state_key("quant_state", "weight.quant_state.bitsandbytes__nf4");
                break;
        }
        this.bias = register_parameter("bias", bias?.detach().clone(), bias?.requires_grad ?? false);
    }

    /// <summary>How the weight is stored.</summary>
    public QuantizationConfig quant_config { get; }

    /// <summary>Shape of the full-precision weight.</summary>
    public long[] weight_shape { get; }

    /// <summary>The bias (full precision), or null.</summary>
    public Tensor? bias { get; }

    /// <summary>Bytes the weight takes in storage: codes and every scale, offset and map (the bias not included).</summary>
    public long weight_bytes => named_buffers(recurse: false).Where(b => b.name != "quant_state").Sum(b => b.buffer.numel() * b.buffer.dtype.ElementSize());

    /// <summary>The weight dequantized to <see cref="QuantizationConfig.compute_dtype"/> (or <paramref name="dtype"/>), shaped
    /// <see cref="weight_shape"/>; a new tensor that never requires grad.</summary>
    public Tensor dequantize(ScalarType? dtype = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor flat = quant_config.quant_type switch
        {
            QuantizationConfig.BFloat16 => _storage,
            QuantizationConfig.Int8 => QuantizedCodec.DequantizeInt8(_storage, _scb!),
            _ => QuantizedCodec.DequantizeNF4(_storage, Scales(), _quantMap!, quant_config.blocksize),
        };
        return flat.reshape(weight_shape).to(dtype ?? quant_config.compute_dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Stores <paramref name="weight"/> (shaped <see cref="weight_shape"/>) in place of the current weight, with
    /// the same format: fresh codes and scales written into the existing buffers (so aliases of them stay live). Rounds
    /// per <see cref="QuantizationConfig.stochastic_rounding"/> unless <paramref name="stochastic"/> says otherwise.</summary>
    public void requantize_(Tensor weight, bool? stochastic = null)
    {
        bool random = stochastic ?? quant_config.stochastic_rounding;
        ArgumentNullException.ThrowIfNull(weight);
        if (!weight.shape.AsSpan().SequenceEqual(weight_shape))
            throw new ArgumentException($"requantize_: the weight has shape [{string.Join(", ", weight.shape)}], the layer [{string.Join(", ", weight_shape)}]", nameof(weight));
        RequireFinite(weight, "requantize_: the new weight");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        switch (quant_config.quant_type)
        {
            case QuantizationConfig.BFloat16:
                _storage.copy_(weight);
                break;
            case QuantizationConfig.Int8:
                (Tensor codes, Tensor scb) = QuantizedCodec.QuantizeInt8(weight, random);
                _storage.copy_(codes);
                _scb!.copy_(scb);
                break;
            default:
                (Tensor packed, Tensor absmax) = QuantizedCodec.QuantizeNF4(weight, quant_config.blocksize, random);
                _storage.copy_(packed);
                if (!quant_config.use_double_quant) { _absmax!.copy_(absmax); break; }
                (Tensor codesOfScales, Tensor nested, Tensor offset) = QuantizedCodec.QuantizeScales(absmax, quant_config.nested_blocksize);
                _absmax!.copy_(codesOfScales);
                _nestedAbsmax!.copy_(nested);
                _nestedOffset!.copy_(offset);
                break;
        }
    }

    // NF4 and int8 share one absmax among a block or row: a NaN or ±∞ there turns the whole block or row into NaN, so
    // such weights are refused (bfloat16 stores them as they are).
    private void RequireFinite(Tensor weight, string what)
    {
        if (quant_config.quant_type == QuantizationConfig.BFloat16 || NonFiniteValues.AllFinite(weight)) return;
        throw new ArgumentException($"{what} of {_layer} holds {NonFiniteValues.Describe(weight)}: {quant_config.quant_type} " +
            "cannot quantize NaN or ±∞ (one would turn its whole block or row into NaN)", nameof(weight));
    }

    /// <summary>The state tensors a merge rewrites (codes, scales, offset), for callers that snapshot and restore them.</summary>
    public IEnumerable<Tensor> quantized_state() =>
        new[] { _storage, _absmax, _nestedAbsmax, _nestedOffset, _scb }.OfType<Tensor>();

    /// <summary>The quantization settings, for <see cref="Module.extra_repr"/> of subclasses.</summary>
    private protected string QuantRepr() => quant_config.quant_type == QuantizationConfig.NF4
        ? $"quant_type={quant_config.quant_type}, blocksize={quant_config.blocksize}{(quant_config.use_double_quant ? ", double_quant=True" : "")}"
        : $"quant_type={quant_config.quant_type}";

    /// <summary>The layer's operation with its weight dequantized to the input's dtype (the compute dtype for other input).</summary>
    public sealed override Tensor forward(Tensor input)
    {
        using Tensor weight = dequantize(ComputeDtype(input));
        return Forward(input, weight);
    }

    /// <summary>
    /// <see cref="Module.call"/> (hooks and forward pass) with <paramref name="weight"/>, this layer's weight dequantized
    /// beforehand (<see cref="dequantize"/> in the input's dtype), in place of dequantizing again: for callers that need
    /// the weight as well (e.g. DoRA's norm), so that one pass dequantizes once. Hooks see the input they would see in
    /// <c>call(input)</c>; a pre-hook may not change its dtype.
    /// </summary>
    public Tensor call(Tensor input, Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        return Call(input, x =>
        {
            if (!weight.shape.SequenceEqual(weight_shape) || weight.dtype != ComputeDtype(x))
                throw new ArgumentException($"weight must be this layer's weight dequantized to {ComputeDtype(x)}, shaped [{string.Join(", ", weight_shape)}]; " +
                    $"got {weight.dtype} [{string.Join(", ", weight.shape)}]", nameof(weight));
            return Forward(x, weight);
        });
    }

    /// <summary>The operation on <paramref name="input"/> with the dequantized <paramref name="weight"/>, which the caller owns.</summary>
    private protected abstract Tensor Forward(Tensor input, Tensor weight);

    private ScalarType ComputeDtype(Tensor input) => input.dtype.IsFloatingPoint() ? input.dtype : quant_config.compute_dtype;

    private Tensor Scales() => quant_config.use_double_quant
        ? QuantizedCodec.DequantizeScales(_absmax!, _nestedAbsmax!, _nestedMap!, _nestedOffset!, quant_config.nested_blocksize)
        : _absmax!;

    // A buffer saved as weight.<name>, as bitsandbytes' Params4bit does.
    private Tensor Keyed(string name, Tensor value)
    {
        string field = "weight_" + name;
        register_buffer(field, value);
        set_state_key(field, "weight." + name);
        return value;
    }

    private static byte[] QuantStateJson(QuantizationConfig config, long[] shape)
    {
        var state = new Dictionary<string, object>
        {
            ["quant_type"] = config.quant_type, ["blocksize"] = config.blocksize, ["dtype"] = "float32", ["shape"] = shape,
        };
        if (config.use_double_quant)
        {
            state["nested_blocksize"] = config.nested_blocksize;
            state["nested_dtype"] = "float32";
        }
        return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(state));
    }
}
