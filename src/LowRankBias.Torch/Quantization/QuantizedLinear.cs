using System.Globalization;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Quantization;

/// <summary>
/// A <see cref="Linear"/> whose frozen weight is stored quantized (bf16, int8 or NF4, see <see cref="QuantizationConfig"/>)
/// and dequantized in every forward pass: y = x dequantize(W)ᵀ + b — bitsandbytes' <c>Linear4bit</c>/<c>Linear8bitLt</c>
/// role, built from libtorch ops. LoRA wraps it like a Linear; merges re-quantize.
/// </summary>
public sealed class QuantizedLinear : QuantizedLayer
{
    /// <summary>Quantizes <paramref name="source"/>'s weight (the source is left untouched; the bias is copied).</summary>
    public QuantizedLinear(Linear source, QuantizationConfig config)
        : base(Checked(source).weight, source.bias, config, $"a Linear({source.in_features} -> {source.out_features})")
    {
        in_features = source.in_features;
        out_features = source.out_features;
    }

    /// <summary>Input size.</summary>
    public long in_features { get; }

    /// <summary>Output size.</summary>
    public long out_features { get; }

    /// <summary>x Wᵀ + b with W dequantized to the input's dtype.</summary>
    private protected override Tensor Forward(Tensor input, Tensor weight)
    {
        long last = input.dim() == 0 ? 0 : input.size(-1);
        if (last != in_features)
            throw new ArgumentException($"QuantizedLinear expects inputs whose last dimension is {in_features}, got shape [{string.Join(", ", input.shape)}]", nameof(input));
        using Tensor? bias = this.bias?.to(weight.dtype);
        return torch.nn.functional.linear(input, weight, bias);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"in_features={in_features}, out_features={out_features}, bias={(bias is null ? "False" : "True")}, {QuantRepr()}");

    private static Linear Checked(Linear source) => source ?? throw new ArgumentNullException(nameof(source));
}
