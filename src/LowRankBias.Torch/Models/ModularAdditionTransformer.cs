using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Models;

/// <summary>
/// The one-layer transformer of grokking studies (Nanda et al. 2023; Yunis et al., appendix A.6): inputs are the
/// tokens [a, b, =] (ids 0…p−1 and p for "=", see <c>Data.ModularAddition</c>); token embedding <see cref="embed"/>
/// plus position encoding, causal attention and a ReLU MLP as residual blocks without LayerNorm, and the
/// unembedding <see cref="unembed"/> read at the last ("=") position gives logits over the p residues.
/// </summary>
/// <remarks>
/// As in Nanda et al.: width 128, 4 heads of 32, MLP 512, attention projections without bias, MLP with bias,
/// unembedding without bias; weights N(0, 1/d_model) (the unembedding N(0, 1/(p + 1))), biases zero. Yunis et al.
/// use p = 97 and fixed sinusoidal position encodings instead of learned ones; both are options. The unembedding
/// maps to the p residues only ("=" is never a target).
/// </remarks>
public sealed class ModularAdditionTransformer : Module
{
    /// <summary>Architecture of a <see cref="ModularAdditionTransformer"/>; the defaults are Yunis et al.'s.</summary>
    public sealed record Config
    {
        /// <summary>The modulus: inputs are residues 0…p−1 and "=" (id p); p output classes.</summary>
        public long p { get; init; } = 97;

        /// <summary>Model width.</summary>
        public long d_model { get; init; } = 128;

        /// <summary>Attention heads; must divide <see cref="d_model"/>.</summary>
        public long num_heads { get; init; } = 4;

        /// <summary>Hidden width of the MLP.</summary>
        public long d_mlp { get; init; } = 512;

        /// <summary>Number of transformer layers (1 in the grokking studies).</summary>
        public long num_layers { get; init; } = 1;

        /// <summary>Input length (3: a, b, =).</summary>
        public long n_ctx { get; init; } = 3;

        /// <summary>Learned position embedding (Nanda et al.) instead of fixed sinusoids (Yunis et al.).</summary>
        public bool learned_positions { get; init; }

        /// <summary>Yunis et al.: p = 97, sinusoidal positions.</summary>
        public static Config Yunis => new();

        /// <summary>Nanda et al.: p = 113, learned positions.</summary>
        public static Config Nanda => new() { p = 113, learned_positions = true };

        internal void Validate()
        {
            ModelChecks.Positive(("d_model", d_model), ("num_heads", num_heads), ("d_mlp", d_mlp), ("num_layers", num_layers), ("n_ctx", n_ctx));
            if (p < 2) throw new ArgumentOutOfRangeException(nameof(p), p, "the modulus must be at least 2");
            if (d_model % num_heads != 0) throw new ArgumentException($"num_heads {num_heads} does not divide d_model {d_model}");
        }
    }

    /// <summary>Builds the model described by <paramref name="config"/>.</summary>
    public ModularAdditionTransformer(Config config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        this.config = config;
        long vocabulary = config.p + 1;
        embed = new Embedding(vocabulary, config.d_model, device: device, dtype: dtype);
        if (config.learned_positions) pos_embed = new Embedding(config.n_ctx, config.d_model, device: device, dtype: dtype);
        else pos_encoding = register_buffer("pos_encoding", Sinusoids(config.n_ctx, config.d_model, dtype, device), persistent: false);
        blocks = new ModuleList(Enumerable.Range(0, (int)config.num_layers).Select(_ => (Module)new TransformerBlock(config.d_model,
            config.num_heads, config.d_mlp, is_causal: true, attention_bias: false, layer_norm: false, activation: new ReLU(),
            device: device, dtype: dtype)));
        unembed = new Linear(config.d_model, config.p, bias: false, device, dtype);
        InitialiseWeights(1 / Math.Sqrt(config.d_model), 1 / Math.Sqrt(vocabulary));
    }

    private void InitialiseWeights(double std, double unembedStd)
    {
        foreach (Module module in modules())
        {
            switch (module)
            {
                case Linear linear:
                    torch.nn.init.normal_(linear.weight, std: ReferenceEquals(linear, unembed) ? unembedStd : std);
                    if (linear.bias is not null) torch.nn.init.zeros_(linear.bias);
                    break;
                case Embedding embedding:
                    torch.nn.init.normal_(embedding.weight, std: std);
                    break;
            }
        }
    }

    // PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d)) (Vaswani et al. 2017).
    private static Tensor Sinusoids(long length, long width, ScalarType? dtype, Device? device)
    {
        var values = new double[length * width];
        for (long t = 0; t < length; t++)
            for (long j = 0; j < width; j++)
            {
                double angle = t / Math.Pow(10000, (j - j % 2) / (double)width);
                values[t * width + j] = j % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle);
            }
        using Tensor host = torch.tensor(values, [length, width]);
        return host.to(device ?? Device.CPU, dtype ?? ScalarType.Float32);
    }

    /// <summary>The architecture.</summary>
    public Config config { get; }

    // Declared before the token embedding: children are ordered by declaration, and a SpectralMonitor pairs consecutive
    // matrices, so the embedding then sits next to the first attention matrix (Yunis et al. align those two).
    /// <summary>Learned position embedding [n_ctx, d_model], or null with sinusoidal positions (buffer <c>pos_encoding</c>).</summary>
    public Module? pos_embed { get; }

    /// <summary>Fixed sinusoidal position encoding [n_ctx, d_model] (a non-persistent buffer), or null with learned positions.</summary>
    public Tensor? pos_encoding { get; }

    /// <summary>Token embedding, [p + 1, d_model].</summary>
    public Module embed { get; }

    /// <summary>The transformer layers (one in the grokking studies).</summary>
    public ModuleList blocks { get; }

    /// <summary>Unembedding d_model → p, read at the last position.</summary>
    public Module unembed { get; }

    /// <summary>Logits [N, p] for token sequences [N, T] (T ≤ n_ctx), read at the last position.</summary>
    public override Tensor forward(Tensor input)
    {
        ModelChecks.Tokens(input, nameof(ModularAdditionTransformer), config.n_ctx, "n_ctx");
        long length = input.size(1);
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor positions = pos_embed is null
            ? pos_encoding!.narrow(0, 0, length)
            : pos_embed.call(torch.arange(length, ScalarType.Int64, input.device));
        Tensor h = embed.call(input) + positions;
        // Only the last position is read out, so the last block computes that position alone (3× less work).
        for (int i = 0; i < blocks.Count; i++)
            h = i == blocks.Count - 1 && blocks[i] is TransformerBlock last ? last.forward_last(h) : blocks[i].call(h);
        return unembed.call(h.select(1, h.size(1) - 1)).MoveToOuterDisposeScope();
    }
}
