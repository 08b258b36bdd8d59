using LowRankBias.Torch.Models;

namespace LowRankBias.Torch.Tests.Models;

/// <summary>Closed-form parameter counts, written from each architecture's description rather than from the code:
/// a D→K linear layer has D·K weights (+ K biases), a LayerNorm of width D has 2D, a k×k convolution C→D has C·k²·D + D.</summary>
internal static class ParameterCounts
{
    private static long Linear(long inputs, long outputs, bool bias = true) => inputs * outputs + (bias ? outputs : 0);

    private static long LayerNorm(long width, bool bias = true) => bias ? 2 * width : width;

    // Pre-norm block: two norms, four D×D projections, MLP D→M→D.
    private static long TransformerBlock(long d, long m, bool bias = true, bool attentionBias = true, bool norms = true) =>
        (norms ? 2 * LayerNorm(d, bias) : 0) + 4 * Linear(d, d, attentionBias) + Linear(d, m, bias) + Linear(m, d, bias);

    public static long Of(VisionTransformer.Config c)
    {
        long d = c.hidden_dim, tokens = (c.image_size / c.patch_size) * (c.image_size / c.patch_size);
        return c.in_channels * c.patch_size * c.patch_size * d + d   // patch embedding
            + d + (tokens + 1) * d                                    // class token, position embedding
            + c.num_layers * TransformerBlock(d, c.mlp_dim)
            + LayerNorm(d) + Linear(d, c.num_classes);
    }

    public static long Of(MlpMixer.Config c)
    {
        long d = c.hidden_dim, tokens = (c.image_size / c.patch_size) * (c.image_size / c.patch_size);
        long block = 2 * LayerNorm(d) + Linear(tokens, c.tokens_mlp_dim) + Linear(c.tokens_mlp_dim, tokens)
            + Linear(d, c.channels_mlp_dim) + Linear(c.channels_mlp_dim, d);
        return c.in_channels * c.patch_size * c.patch_size * d + d + c.num_blocks * block + LayerNorm(d) + Linear(d, c.num_classes);
    }

    public static long Of(GPT.Config c)
    {
        long d = c.n_embd;
        return c.vocab_size * d + c.block_size * d
            + c.n_layer * TransformerBlock(d, c.mlp_dim, c.bias, c.bias)
            + LayerNorm(d, c.bias)
            + (c.tie_weights ? 0 : c.vocab_size * d);
    }

    public static long Of(ConvNet.Config c)
    {
        long total = 0, inputs = c.in_channels;
        foreach (long outputs in c.channels)
        {
            total += inputs * 9 * outputs + outputs;
            inputs = outputs;
        }
        return total + Linear(inputs, c.hidden_features) + Linear(c.hidden_features, c.num_classes);
    }

    public static long Of(MLP.Config c) =>
        Enumerable.Range(0, c.widths.Count - 1).Sum(i => Linear(c.widths[i], c.widths[i + 1], c.bias));

    public static long Of(ModularAdditionTransformer.Config c) =>
        (c.p + 1) * c.d_model + (c.learned_positions ? c.n_ctx * c.d_model : 0)
        + c.num_layers * TransformerBlock(c.d_model, c.d_mlp, attentionBias: false, norms: false)
        + c.d_model * c.p;
}
