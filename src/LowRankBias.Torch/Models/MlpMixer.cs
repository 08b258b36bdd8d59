using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Models;

/// <summary>
/// MLP-Mixer (Tolstikhin et al. 2021), as in the LTE paper's Table 3: a patch embedding <see cref="stem"/> (Conv2d
/// with kernel = stride = patch), <see cref="MixerBlock"/>s, a final LayerNorm <see cref="ln"/>, the mean over
/// tokens and the classifier <see cref="head"/>. Initialisation: PyTorch's layer defaults.
/// </summary>
public sealed class MlpMixer : Module
{
    /// <summary>Architecture of an <see cref="MlpMixer"/>; the defaults are Mixer-T/32 at 224 px with 1000 classes.</summary>
    /// <remarks>The LTE paper lists only the channel-MLP width ("MLP dim"); the token-mixing width follows the standard
    /// Mixer ratio D_S = C/2 (Mixer-S/32: 256, Mixer-B/32: 384 in Tolstikhin et al.; timm's mlp_ratio (0.5, 4)), which
    /// reproduces the paper's parameter totals (8.8M, 19.1M, 60.3M).</remarks>
    public sealed record Config
    {
        /// <summary>Height and width of the (square) input images.</summary>
        public long image_size { get; init; } = 224;

        /// <summary>Height and width of each patch; must divide <see cref="image_size"/>.</summary>
        public long patch_size { get; init; } = 32;

        /// <summary>Image channels.</summary>
        public long in_channels { get; init; } = 3;

        /// <summary>Number of classes.</summary>
        public long num_classes { get; init; } = 1000;

        /// <summary>Number of mixer blocks.</summary>
        public long num_blocks { get; init; } = 6;

        /// <summary>Embedding width C.</summary>
        public long hidden_dim { get; init; } = 384;

        /// <summary>Hidden width of the token-mixing MLPs (D_S).</summary>
        public long tokens_mlp_dim { get; init; } = 192;

        /// <summary>Hidden width of the channel-mixing MLPs (D_C, the paper's "MLP dim").</summary>
        public long channels_mlp_dim { get; init; } = 1536;

        /// <summary>Dropout inside the MLPs.</summary>
        public double dropout { get; init; }

        /// <summary>Number of patch tokens, (image_size/patch_size)².</summary>
        public long num_patches => (image_size / patch_size) * (image_size / patch_size);

        /// <summary>Mixer-T/32 (LTE Table 3): 6 blocks, width 384, MLP 1536 (tokens 192); ≈ 8.8M parameters.</summary>
        public static Config Mixer_T => new();

        /// <summary>Mixer-S/32 (LTE Table 3): 8 blocks, width 512, MLP 2048 (tokens 256); ≈ 19.1M parameters.</summary>
        public static Config Mixer_S => new() { num_blocks = 8, hidden_dim = 512, tokens_mlp_dim = 256, channels_mlp_dim = 2048 };

        /// <summary>Mixer-B/32 (LTE Table 3): 12 blocks, width 768, MLP 3072 (tokens 384); ≈ 60.3M parameters.</summary>
        public static Config Mixer_B => new() { num_blocks = 12, hidden_dim = 768, tokens_mlp_dim = 384, channels_mlp_dim = 3072 };

        internal void Validate()
        {
            foreach ((string name, long value) in new[] { ("image_size", image_size), ("patch_size", patch_size), ("in_channels", in_channels),
                ("num_classes", num_classes), ("num_blocks", num_blocks), ("hidden_dim", hidden_dim), ("tokens_mlp_dim", tokens_mlp_dim),
                ("channels_mlp_dim", channels_mlp_dim) })
                if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive");
            if (image_size % patch_size != 0)
                throw new ArgumentException($"image_size {image_size} is not divisible by patch_size {patch_size}");
        }
    }

    /// <summary>Builds the model described by <paramref name="config"/>.</summary>
    public MlpMixer(Config config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        this.config = config;
        stem = new Conv2d(config.in_channels, config.hidden_dim, config.patch_size, stride: config.patch_size, device: device, dtype: dtype);
        blocks = new ModuleList(Enumerable.Range(0, (int)config.num_blocks).Select(_ => (Module)new MixerBlock(
            config.num_patches, config.hidden_dim, config.tokens_mlp_dim, config.channels_mlp_dim, config.dropout, device, dtype)));
        ln = new LayerNorm(config.hidden_dim, eps: 1e-6, device: device, dtype: dtype);
        head = new Linear(config.hidden_dim, config.num_classes, device: device, dtype: dtype);
    }

    /// <summary>The architecture.</summary>
    public Config config { get; }

    /// <summary>Patch embedding: Conv2d in_channels → hidden_dim with kernel = stride = patch_size.</summary>
    public Module stem { get; }

    /// <summary>The mixer blocks, named "0", "1", ….</summary>
    public ModuleList blocks { get; }

    /// <summary>Final LayerNorm.</summary>
    public Module ln { get; }

    /// <summary>Classifier hidden_dim → num_classes.</summary>
    public Module head { get; }

    /// <summary>Class logits [N, num_classes] for images [N, in_channels, image_size, image_size].</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4 || input.size(2) != config.image_size || input.size(3) != config.image_size)
            throw new ArgumentException($"MlpMixer expects images [N, {config.in_channels}, {config.image_size}, {config.image_size}], " +
                $"got shape [{string.Join(", ", input.shape)}]", nameof(input));
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor h = stem.call(input).flatten(2).transpose(1, 2);
        foreach (Module block in blocks) h = block.call(h);
        Tensor pooled = ln.call(h).mean(1);
        return head.call(pooled).MoveToOuterDisposeScope();
    }
}
