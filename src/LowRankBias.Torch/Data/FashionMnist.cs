namespace LowRankBias.Torch.Data;

/// <summary>Fashion-MNIST (Xiao et al. 2017): 28×28 grey-scale clothing images in 10 classes, MNIST file format.</summary>
public static class FashionMnist
{
    /// <summary>Where the files are installed by default.</summary>
    public const string DefaultRoot = "/usr/share/datasets/fashion-mnist";

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The training (60 000) or test (10 000) split: float32 images [N, 1, 28, 28] in [0, 1] and int64 labels.</summary>
    public static TensorDataset Load(bool train = true, string? root = null) => Mnist.Load(root ?? DefaultRoot, train);
}
