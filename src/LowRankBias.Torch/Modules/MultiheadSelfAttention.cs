using System.Globalization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// Multi-head self-attention over N×L×E sequences with four separate projections: <see cref="q"/>, <see cref="k"/>,
/// <see cref="v"/> (E → E, split into <see cref="num_heads"/> heads of E/num_heads) and the output <see cref="o"/>
/// (E → E). Unlike PyTorch's <c>nn.MultiheadAttention</c>, whose query/key/value projection is one fused matrix,
/// each projection is its own replaceable layer, so LoRA and over-parameterization can target every linear map
/// (as in the LTE paper, which un-fuses them for the same reason). Per head:
/// softmax(q·kᵀ/√d + mask)·v, with dropout on the attention weights in training. <see cref="is_causal"/> lets
/// position t attend only to positions ≤ t (GPT).
/// </summary>
public sealed class MultiheadSelfAttention : Module
{
    /// <summary>Creates the layer; <paramref name="num_heads"/> must divide <paramref name="embed_dim"/>.
    /// <paramref name="bias"/> applies to all four projections, which start with PyTorch's Linear initialisation.</summary>
    public MultiheadSelfAttention(long embed_dim, long num_heads, double dropout = 0.0, bool bias = true, bool is_causal = false,
        Device? device = null, ScalarType? dtype = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(embed_dim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(num_heads, 1);
        if (embed_dim % num_heads != 0)
            throw new ArgumentException($"num_heads = {num_heads} must divide embed_dim = {embed_dim}", nameof(num_heads));
        if (!(dropout >= 0 && dropout <= 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout has to be between 0 and 1");
        this.embed_dim = embed_dim;
        this.num_heads = num_heads;
        this.dropout = dropout;
        this.is_causal = is_causal;
        q = new Linear(embed_dim, embed_dim, bias, device, dtype);
        k = new Linear(embed_dim, embed_dim, bias, device, dtype);
        v = new Linear(embed_dim, embed_dim, bias, device, dtype);
        o = new Linear(embed_dim, embed_dim, bias, device, dtype);
    }

    /// <summary>Query projection E → E.</summary>
    public Module q { get; }

    /// <summary>Key projection E → E.</summary>
    public Module k { get; }

    /// <summary>Value projection E → E.</summary>
    public Module v { get; }

    /// <summary>Output projection E → E, applied to the concatenated heads.</summary>
    public Module o { get; }

    /// <summary>Model width E.</summary>
    public long embed_dim { get; }

    /// <summary>Number of heads.</summary>
    public long num_heads { get; }

    /// <summary>Width of each head, E / num_heads.</summary>
    public long head_dim => embed_dim / num_heads;

    /// <summary>Dropout probability on the attention weights (training only).</summary>
    public double dropout { get; }

    /// <summary>Whether position t attends only to positions ≤ t.</summary>
    public bool is_causal { get; }

    /// <summary>Self-attention of <paramref name="input"/> (N×L×E) without an extra mask.</summary>
    public override Tensor forward(Tensor input) => forward(input, null);

    /// <summary>
    /// Self-attention of <paramref name="input"/> (N×L×E). <paramref name="attn_mask"/>, broadcastable to
    /// N×num_heads×L×L, is either bool (true where the query may attend to the key) or float (added to the scores);
    /// with <see cref="is_causal"/> it is combined with the causal mask. This overload bypasses forward hooks of this
    /// module (hooks see one input); those of the projections still run.
    /// </summary>
    public Tensor forward(Tensor input, Tensor? attn_mask)
    {
        InputChecks.Rank(input, nameof(MultiheadSelfAttention), "N×L×E", 3);
        InputChecks.Size(input, 2, embed_dim, nameof(MultiheadSelfAttention), "features");
        using DisposeScope scope = torch.NewDisposeScope();
        long n = input.size(0), length = input.size(1);
        Tensor Heads(Module projection) => projection.call(input).reshape(n, length, num_heads, head_dim).transpose(1, 2);

        Tensor? mask = attn_mask;
        bool causal = is_causal;
        if (is_causal && attn_mask is not null)
        {
            // The fused operator takes a mask or the causal flag, not both: fold causality into the mask.
            Tensor future = torch.ones([length, length], ScalarType.Bool, input.device).triu(1);
            mask = attn_mask.dtype == ScalarType.Bool ? attn_mask & !future : torch.where(future, double.NegativeInfinity, attn_mask);
            causal = false;
        }
        Tensor heads = F.scaled_dot_product_attention(Heads(q), Heads(k), Heads(v), mask, training ? dropout : 0.0, causal);
        Tensor merged = heads.transpose(1, 2).reshape(n, length, embed_dim);
        return o.call(merged).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The attention's output at the last position only, [N, 1, E]: the query is projected from the last position, keys
    /// and values from all of them. With or without causal masking the last position sees every key, so this equals
    /// <c>forward(input)</c>'s last position at a fraction of the cost (a readout at the last token needs nothing else).
    /// </summary>
    public Tensor forward_last(Tensor input)
    {
        InputChecks.Rank(input, nameof(MultiheadSelfAttention), "N×L×E", 3);
        InputChecks.Size(input, 2, embed_dim, nameof(MultiheadSelfAttention), "features");
        using DisposeScope scope = torch.NewDisposeScope();
        long n = input.size(0), length = input.size(1);
        Tensor Heads(Module projection, Tensor x, long positions) => projection.call(x).reshape(n, positions, num_heads, head_dim).transpose(1, 2);
        Tensor query = Heads(q, input.narrow(1, length - 1, 1), 1);
        Tensor heads = F.scaled_dot_product_attention(query, Heads(k, input, length), Heads(v, input, length), null, training ? dropout : 0.0);
        return o.call(heads.transpose(1, 2).reshape(n, 1, embed_dim)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"embed_dim={embed_dim}, num_heads={num_heads}, dropout={dropout}, is_causal={(is_causal ? "True" : "False")}");
}
