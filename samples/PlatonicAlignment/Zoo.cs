namespace LowRankBias.Samples.PlatonicAlignment;

/// <summary>One member of the model zoo: an architecture family at a size index, trained from a seed.</summary>
internal sealed record ZooModel(string Family, int Size, int Seed)
{
    /// <summary>The families, in the order they are trained.</summary>
    public static readonly string[] Families = ["mlp", "cnn", "vit", "mixer"];

    /// <summary>Size indices 0, 1, 2 (quick) and 3 (paper); each family grows in width (and the transformers in depth).</summary>
    public const int Sizes = 4;

    public string Name => $"{Family}-{Size}-s{Seed}";

    /// <summary>The untrained network for 28×28 grey images and 10 classes.</summary>
    public Module Build() => Family switch
    {
        "mlp" => new MLP(new MLP.Config { widths = [784, Width(32), Width(32), Width(32), 10] }),
        "cnn" => new ConvNet(ConvNet.Config.FashionMnist with { channels = [Width(8), Width(16), Width(32)], hidden_features = Width(32) }),
        // 7×7 patches: 16 tokens keep the transformers CPU-sized at every width.
        "vit" => new VisionTransformer(new VisionTransformer.Config
        {
            image_size = 28, patch_size = 7, in_channels = 1, num_classes = 10,
            num_layers = Depth, num_heads = 4, hidden_dim = Width(32), mlp_dim = 2 * Width(32),
        }),
        "mixer" => new MlpMixer(new MlpMixer.Config
        {
            image_size = 28, patch_size = 7, in_channels = 1, num_classes = 10,
            num_blocks = Depth, hidden_dim = Width(32), tokens_mlp_dim = Width(16), channels_mlp_dim = 4 * Width(32),
        }),
        _ => throw new ArgumentException($"unknown family '{Family}'"),
    };

    /// <summary>The images as the model takes them: flattened for the MLP.</summary>
    public bool Flat => Family == "mlp";

    private long Width(long smallest) => smallest << Size;   // ×1, ×2, ×4, ×8

    private long Depth => Size == 0 ? 2 : 4;
}
