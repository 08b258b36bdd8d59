namespace LowRankBias.Torch.Modules;

/// <summary>
/// A pre-norm transformer block (ViT, GPT-2): h = x + dropout(attn(ln_1(x))), y = h + mlp(ln_2(h)), with
/// <see cref="MultiheadSelfAttention"/> and an <see cref="MlpBlock"/> (width → mlp_dim → width). Without
/// <c>layer_norm</c> the norms are <see cref="Identity"/> (the one-layer grokking transformer has none).
/// </summary>
public sealed class TransformerBlock : Module
{
    /// <summary>Creates the block. <paramref name="dropout"/> applies to the attention branch's output and inside the MLP;
    /// <paramref name="attention_dropout"/> to the attention weights; <paramref name="bias"/> to every linear layer and
    /// the norms, and to the attention projections unless <paramref name="attention_bias"/> says otherwise;
    /// <paramref name="activation"/> is the MLP's non-linearity (GELU by default).</summary>
    public TransformerBlock(long embed_dim, long num_heads, long mlp_dim, double dropout = 0.0, double attention_dropout = 0.0,
        bool is_causal = false, bool bias = true, bool? attention_bias = null, bool layer_norm = true, double norm_eps = 1e-5,
        Module? activation = null, Device? device = null, ScalarType? dtype = null)
    {
        ln_1 = Norm(layer_norm, embed_dim, norm_eps, bias, device, dtype);
        attn = new MultiheadSelfAttention(embed_dim, num_heads, attention_dropout, attention_bias ?? bias, is_causal, device, dtype);
        drop = new Dropout(dropout);
        ln_2 = Norm(layer_norm, embed_dim, norm_eps, bias, device, dtype);
        mlp = new MlpBlock(embed_dim, mlp_dim, activation: activation, dropout: dropout, bias: bias, device: device, dtype: dtype);
    }

    private static Module Norm(bool layerNorm, long width, double eps, bool bias, Device? device, ScalarType? dtype) =>
        layerNorm ? new LayerNorm(width, eps, bias: bias, device: device, dtype: dtype) : new Identity();

    /// <summary>Norm before attention.</summary>
    public Module ln_1 { get; }

    /// <summary>The self-attention (a <see cref="MultiheadSelfAttention"/> unless replaced).</summary>
    public Module attn { get; }

    /// <summary>Dropout on the attention branch.</summary>
    public Module drop { get; }

    /// <summary>Norm before the MLP.</summary>
    public Module ln_2 { get; }

    /// <summary>The feed-forward block.</summary>
    public Module mlp { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => forward(input, null);

    /// <summary>The block with an attention mask passed to <see cref="MultiheadSelfAttention.forward(Tensor, Tensor?)"/>;
    /// <paramref name="attn_mask"/> needs <see cref="attn"/> to be a <see cref="MultiheadSelfAttention"/>.</summary>
    public Tensor forward(Tensor input, Tensor? attn_mask)
    {
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor normed = ln_1.call(input);
        Tensor attended = attn_mask is null ? attn.call(normed)
            : attn is MultiheadSelfAttention mhsa ? mhsa.forward(normed, attn_mask)
            : throw new InvalidOperationException($"an attention mask needs a MultiheadSelfAttention at 'attn', found {attn.GetType().Name}");
        Tensor h = input + drop.call(attended);
        Tensor output = h + mlp.call(ln_2.call(h));
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The block's output at the last position only, [N, 1, E] — what a readout at the last token (a grokking
    /// transformer's "=") needs: attention queries from the last position only (see
    /// <see cref="MultiheadSelfAttention.forward_last"/>) and the MLP on that position alone. Equals
    /// <c>forward(input)</c>'s last position; an <see cref="attn"/> that is not a <see cref="MultiheadSelfAttention"/>
    /// runs on every position.
    /// </summary>
    public Tensor forward_last(Tensor input)
    {
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor normed = ln_1.call(input);
        long last = input.size(1) - 1;
        Tensor attended = attn is MultiheadSelfAttention mhsa ? mhsa.forward_last(normed) : attn.call(normed).narrow(1, last, 1);
        Tensor h = input.narrow(1, last, 1) + drop.call(attended);
        Tensor output = h + mlp.call(ln_2.call(h));
        return output.MoveToOuterDisposeScope();
    }
}
