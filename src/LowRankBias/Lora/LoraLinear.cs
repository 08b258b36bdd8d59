using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
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

    /// <inheritdoc />
    public override Tensor weight => Linear.weight;

    /// <inheritdoc />
    protected override (long rows, long cols) MatrixShape => (Linear.out_features, Linear.in_features);

    private Linear Linear => (Linear)base_layer;

    /// <inheritdoc />
    protected override (long[] a, long[] b) FactorShapes(LoraConfig config) =>
        ([config.r, Linear.in_features], [Linear.out_features, config.r]);

    /// <inheritdoc />
    protected override Tensor AdapterOutput(string adapter, Tensor input)
    {
        // Scaling the rank-r intermediate rather than the output costs r instead of out multiplications per row.
        using Tensor x = LoraInput(adapter, input);
        using Tensor down = F.linear(x, lora_A[adapter]);
        using Tensor scaled = down * Scaling(adapter);
        return F.linear(scaled, lora_B[adapter]);
    }

    /// <inheritdoc />
    protected override Tensor DeltaWeight(string adapter, ScalarType work)
    {
        using Tensor a = lora_A[adapter].to(work), b = lora_B[adapter].to(work);
        using Tensor product = b.mm(a);
        return product * Scaling(adapter);
    }
}
