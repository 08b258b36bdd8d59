using LowRankBias.Torch;

namespace LowRankBias.Lora.Variants;

/// <summary>Plain LoRA, the default variant: output + s·B A dropout(x), merged as W + ΔW with ΔW = s·BA.</summary>
internal sealed class PlainLora : LoraVariant
{
    /// <inheritdoc />
    public override string Name => "lora";

    /// <inheritdoc />
    public override Tensor Forward(LoraLayer layer, string adapter, Tensor input, Tensor result)
    {
        using Tensor x = layer.LoraInput(adapter, input);
        using Tensor delta = layer.LoraOutput(adapter, x);
        using Tensor cast = delta.to(result.dtype);
        return result + cast;
    }

    /// <inheritdoc />
    public override Tensor Merged(LoraLayer layer, string adapter, Tensor weight)
    {
        using Tensor delta = layer.LoraDelta(adapter, weight.dtype);
        return weight + delta;
    }

    /// <inheritdoc />
    public override Tensor Unmerged(LoraLayer layer, string adapter, Tensor merged)
    {
        using Tensor delta = layer.LoraDelta(adapter, merged.dtype);
        return merged - delta;
    }
}
