using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Lora;

/// <summary>
/// LoRA on a <see cref="Linear"/>: y = W x + b + s·B A dropout(x) with A [r, in], B [out, r] and the base frozen.
/// </summary>
public sealed class LoraLinear : LoraLayer
{
    /// <summary>Wraps <paramref name="base_layer"/> and adds one adapter (default config: PEFT's r = 8, α = 8).</summary>
    public LoraLinear(Linear base_layer, LoraConfig? config = null, string adapter_name = "default") : base(base_layer) =>
        update_layer(adapter_name, config ?? new LoraConfig());

    /// <summary>Wraps a quantized <paramref name="base_layer"/> (QLoRA: the base stays quantized, the factors are float32)
    /// and adds one adapter.</summary>
    public LoraLinear(QuantizedLinear base_layer, LoraConfig? config = null, string adapter_name = "default") : this(base_layer, config, adapter_name, null)
    {
    }

    // Over a base that LoraModel has just quantized from fullPrecisionWeight, which a data-aware init then fits.
    internal LoraLinear(QuantizedLinear base_layer, LoraConfig? config, string adapter_name, Tensor? fullPrecisionWeight) : base(base_layer) =>
        update_layer(adapter_name, config ?? new LoraConfig(), fullPrecisionWeight);

    /// <inheritdoc />
    public override Tensor weight => (base_layer as Linear)?.weight ?? throw QuantizedWeight();

    /// <inheritdoc />
    protected override (long rows, long cols) MatrixShape => LinearShape.Of(base_layer);


    /// <inheritdoc />
    protected override (long[] a, long[] b) FactorShapes(LoraConfig config) =>
        ([config.r, MatrixShape.cols], [MatrixShape.rows, config.r]);

    /// <inheritdoc />
    protected override Tensor AdapterOutput(string adapter, Tensor input)
    {
        // Scaling the rank-r intermediate rather than the output costs r instead of out multiplications per row.
        using Tensor down = F.linear(input, lora_A[adapter]);
        using Tensor scaled = down * Scaling(adapter);
        return F.linear(scaled, lora_B[adapter]);
    }

    internal override Tensor ApplyWeight(Tensor input, Tensor weight) => F.linear(input, weight);

    /// <inheritdoc />
    protected override Tensor DeltaWeight(string adapter, ScalarType work)
    {
        using Tensor a = lora_A[adapter].to(work), b = lora_B[adapter].to(work);
        using Tensor product = b.mm(a);
        return product * Scaling(adapter);
    }
}
