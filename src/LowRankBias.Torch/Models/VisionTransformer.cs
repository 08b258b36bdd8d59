using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Models;

/// <summary>
/// Vision Transformer (Dosovitskiy et al. 2021), laid out like torchvision's, which the LTE paper trained:
/// <see cref="conv_proj"/> cuts the image into patches and embeds them; a learned class token is prepended and a
/// learned position embedding added; pre-norm <see cref="TransformerBlock"/>s follow; the class token's final state
/// goes through LayerNorm <see cref="ln"/> and the classifier <see cref="head"/>.
/// </summary>
/// <remarks>
/// The patch embedding is a Conv2d with kernel = stride = patch size rather than a Linear on flattened patches:
/// the two compute the same map, but the Conv2d keeps torchvision's parameter layout and is the convolution that
/// the LTE paper parameterizes with its convolutional LoRA (appendix A.1), so LoRA-for-Conv2d can target it.
/// Initialisation: PyTorch's layer defaults; class token zeros and position embedding N(0, 0.02²) as in torchvision.
/// </remarks>
public sealed partial class VisionTransformer : Module
{
    /// <summary>Architecture of a <see cref="VisionTransformer"/>; the defaults are ViT-S/32 at 224 px with 1000 classes.</summary>
    public sealed record Config
    {
        /// <summary>Height and width of the (square) input images.</summary>
        public long image_size { get; init; } = 224;

        /// <summary>Height and width of each patch; must divide <see cref="image_size"/>.</summary>
        public long patch_size { get; init; } = 32;

        /// <summary>Image channels (3 for RGB, 1 for Fashion-MNIST).</summary>
        public long in_channels { get; init; } = 3;

        /// <summary>Number of classes.</summary>
        public long num_classes { get; init; } = 1000;

        /// <summary>Number of transformer blocks.</summary>
        public long num_layers { get; init; } = 12;

        /// <summary>Attention heads per block; must divide <see cref="hidden_dim"/>.</summary>
        public long num_heads { get; init; } = 6;

        /// <summary>Model width.</summary>
        public long hidden_dim { get; init; } = 384;

        /// <summary>Hidden width of each block's MLP.</summary>
        public long mlp_dim { get; init; } = 1536;

        /// <summary>Dropout after the embeddings, on the attention branch and inside the MLPs.</summary>
        public double dropout { get; init; }

        /// <summary>Dropout on the attention weights.</summary>
        public double attention_dropout { get; init; }

        /// <summary>Epsilon of every LayerNorm: 1e-6 as in torchvision and timm (Hugging Face's ViTConfig uses 1e-12).</summary>
        public double norm_eps { get; init; } = 1e-6;

        /// <summary>Number of patch tokens, (image_size/patch_size)².</summary>
        public long num_patches => (image_size / patch_size) * (image_size / patch_size);

        /// <summary>ViT-S/32 (LTE Table 2): 12 blocks, 6 heads, width 384, MLP 1536; ≈ 22.9M parameters with 1000 classes.</summary>
        public static Config ViT_S => new();

        /// <summary>ViT-B/32 (LTE Table 2): 12 blocks, 12 heads, width 768, MLP 3072; ≈ 88.2M parameters with 1000 classes.</summary>
        public static Config ViT_B => new() { num_heads = 12, hidden_dim = 768, mlp_dim = 3072 };

        /// <summary>ViT-L/32 (LTE Table 2): 24 blocks, 16 heads, width 1024, MLP 4096; ≈ 306.5M parameters with 1000 classes.</summary>
        public static Config ViT_L => new() { num_layers = 24, num_heads = 16, hidden_dim = 1024, mlp_dim = 4096 };

        /// <summary>
        /// A CPU-sized ViT for Fashion-MNIST: 28×28 grey images in 4×4 patches (49 tokens + class token), 10 classes,
        /// 4 blocks of width 128 with 4 heads of 32 and MLP 256 (2×), 0.54M parameters. The smallest width and depth
        /// of the usual tiny range, because CPU time grows with both: a forward pass costs ≈ 58 MFLOP per image
        /// (≈ 0.17 GFLOP per training step), about a third of width 192 / depth 6 (≈ 0.19 GFLOP forward), so a
        /// 2-core CPU that sustains a few tens of GFLOP/s trains a few hundred images per second.
        /// </summary>
        public static Config ViT_Tiny => new()
        {
            image_size = 28, patch_size = 4, in_channels = 1, num_classes = 10,
            num_layers = 4, num_heads = 4, hidden_dim = 128, mlp_dim = 256,
        };

        internal void Validate()
        {
            ModelChecks.Positive(("image_size", image_size), ("patch_size", patch_size), ("in_channels", in_channels), ("num_classes", num_classes),
                ("num_layers", num_layers), ("num_heads", num_heads), ("hidden_dim", hidden_dim), ("mlp_dim", mlp_dim));
            if (image_size % patch_size != 0)
                throw new ArgumentException($"image_size {image_size} is not divisible by patch_size {patch_size}");
            if (!(norm_eps > 0)) throw new ArgumentException($"norm_eps must be positive, got {norm_eps}");
            if (hidden_dim % num_heads != 0)
                throw new ArgumentException($"num_heads {num_heads} does not divide hidden_dim {hidden_dim}");
        }
    }

    /// <summary>Builds the model described by <paramref name="config"/>.</summary>
    public VisionTransformer(Config config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        this.config = config;
        long width = config.hidden_dim;
        conv_proj = new Conv2d(config.in_channels, width, config.patch_size, stride: config.patch_size, device: device, dtype: dtype);
        class_token = register_parameter("class_token", torch.zeros([1, 1, width], dtype, device));
        pos_embedding = register_parameter("pos_embedding", torch.empty([1, config.num_patches + 1, width], dtype, device));
        torch.nn.init.normal_(pos_embedding, std: 0.02);
        dropout = new Dropout(config.dropout);
        blocks = new ModuleList(Enumerable.Range(0, (int)config.num_layers).Select(_ => (Module)new TransformerBlock(
            width, config.num_heads, config.mlp_dim, config.dropout, config.attention_dropout, norm_eps: config.norm_eps, device: device, dtype: dtype)));
        ln = new LayerNorm(width, eps: config.norm_eps, device: device, dtype: dtype);
        head = new Linear(width, config.num_classes, device: device, dtype: dtype);
    }

    /// <summary>The architecture.</summary>
    public Config config { get; }

    /// <summary>Patch embedding: Conv2d in_channels → hidden_dim with kernel = stride = patch_size.</summary>
    public Module conv_proj { get; }

    /// <summary>Dropout after adding the position embedding.</summary>
    public Module dropout { get; }

    /// <summary>The transformer blocks, named "0", "1", ….</summary>
    public ModuleList blocks { get; }

    /// <summary>Final LayerNorm, applied to the class token.</summary>
    public Module ln { get; }

    /// <summary>Classifier hidden_dim → num_classes.</summary>
    public Module head { get; }

    /// <summary>Learned class token, [1, 1, hidden_dim].</summary>
    public Tensor class_token { get; }

    /// <summary>Learned position embedding, [1, num_patches + 1, hidden_dim].</summary>
    public Tensor pos_embedding { get; }

    /// <summary>Class logits [N, num_classes] for images [N, in_channels, image_size, image_size].</summary>
    public override Tensor forward(Tensor input)
    {
        ModelChecks.Images(input, nameof(VisionTransformer), config.in_channels, config.image_size);
        using DisposeScope scope = torch.NewDisposeScope();
        long n = input.size(0);
        Tensor patches = conv_proj.call(input).flatten(2).transpose(1, 2);
        Tensor tokens = torch.cat([class_token.expand(n, -1, -1), patches], 1) + pos_embedding;
        Tensor h = dropout.call(tokens);
        foreach (Module block in blocks) h = block.call(h);
        Tensor classState = ln.call(h).select(1, 0);
        return head.call(classState).MoveToOuterDisposeScope();
    }
}
