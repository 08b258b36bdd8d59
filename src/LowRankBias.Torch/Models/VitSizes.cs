namespace LowRankBias.Torch.Models;

/// <summary>
/// The standard ViT sizes, by which a checkpoint's shapes tell its head count: no tensor's shape holds the number of
/// heads (width 128 fits 1, 2, 4 or 8 equally), but width, depth and MLP width together name a size, and each size
/// has one head count. Any other shape needs the count from the caller.
/// </summary>
internal static class VitSizes
{
    private static readonly VisionTransformer.Config[] s_named =
    [
        VisionTransformer.Config.ViT_Tiny,
        new() { num_layers = 12, num_heads = 3, hidden_dim = 192, mlp_dim = 768 },   // ViT-Ti (timm vit_tiny, DeiT-Ti)
        VisionTransformer.Config.ViT_S,
        VisionTransformer.Config.ViT_B,                                              // torchvision vit_b_16/32, google/vit-base
        VisionTransformer.Config.ViT_L,                                              // vit_l_16/32, google/vit-large
        new() { num_layers = 32, num_heads = 16, hidden_dim = 1280, mlp_dim = 5120 }, // ViT-H (vit_h_14), not width / 64
    ];

    /// <summary>The head count of the standard size with these dimensions, or null when they name none.</summary>
    internal static long? Heads(long width, long layers, long mlp) =>
        s_named.FirstOrDefault(c => c.hidden_dim == width && c.num_layers == layers && c.mlp_dim == mlp)?.num_heads;

    /// <summary>The sizes, for error messages: <c>width/blocks/MLP</c>.</summary>
    internal static string Listing => string.Join(", ", s_named.Select(c => $"{c.hidden_dim}/{c.num_layers}/{c.mlp_dim}"));
}
