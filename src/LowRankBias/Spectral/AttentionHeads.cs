using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>
/// Per-head views of attention projections (nn.Linear layout [out, in], heads laid out contiguously), and the
/// pairings Yunis et al. align head by head (App. A.4) for <see cref="LayerAlignment.Consecutive"/>. Results are
/// views in the caller's dispose scope.
/// </summary>
public static class AttentionHeads
{
    /// <summary>W_Q, W_K or W_V [H·d_head, d_model] → [H, d_head, d_model].</summary>
    public static Tensor SplitOutputs(Tensor weight, int heads)
    {
        long perHead = PerHead(weight, heads, dim: 0, nameof(weight));
        return weight.reshape(heads, perHead, weight.size(1));
    }

    /// <summary>W_O [d_model, H·d_head] → [H, d_model, d_head].</summary>
    public static Tensor SplitInputs(Tensor weight, int heads)
    {
        long perHead = PerHead(weight, heads, dim: 1, nameof(weight));
        using Tensor split = weight.reshape(weight.size(0), heads, perHead);
        return split.permute(1, 0, 2);
    }

    /// <summary>A fused projection [3·d, d_model] (rows Q, then K, then V) → its three parts.</summary>
    public static (Tensor Query, Tensor Key, Tensor Value) SplitFused(Tensor queryKeyValue)
    {
        PerHead(queryKeyValue, 3, dim: 0, nameof(queryKeyValue));
        Tensor[] parts = queryKeyValue.chunk(3, 0);
        return (parts[0], parts[1], parts[2]);
    }

    /// <summary>
    /// The query–key pair per head: attention scores are x W_Q,hᵀ W_K,h x'ᵀ, so the chain is W_K,h [d_head, d_model]
    /// followed by W_Q,hᵀ [d_model, d_head]. Returns (first: [H, d_head, d_model], second: [H, d_model, d_head]).
    /// </summary>
    public static (Tensor First, Tensor Second) QueryKey(Tensor query, Tensor key, int heads)
    {
        using Tensor queryHeads = SplitOutputs(query, heads);
        return (SplitOutputs(key, heads), queryHeads.mT);
    }

    /// <summary>The value–output pair per head: W_V,h [d_head, d_model] followed by W_O,h [d_model, d_head].</summary>
    public static (Tensor First, Tensor Second) ValueOutput(Tensor value, Tensor output, int heads) =>
        (SplitOutputs(value, heads), SplitInputs(output, heads));

    private static long PerHead(Tensor weight, int heads, int dim, string parameter)
    {
        ArgumentNullException.ThrowIfNull(weight, parameter);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        if (weight.dim() != 2) throw new ArgumentException($"expected a 2-D projection weight, got {SpectralTensors.ShapeText(weight)}", parameter);
        long size = weight.size(dim);
        if (size == 0 || size % heads != 0)
            throw new ArgumentException($"dimension {dim} of {SpectralTensors.ShapeText(weight)} does not split into {heads} equal parts", parameter);
        return size / heads;
    }
}
