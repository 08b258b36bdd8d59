namespace LowRankBias.Torch.Data;

/// <summary>
/// MNIST-format image classification sets (MNIST, Fashion-MNIST, …): a folder holding
/// <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and
/// <c>t10k-labels-idx1-ubyte</c>, each raw or with a <c>.gz</c> suffix.
/// </summary>
public static class Mnist
{
    /// <summary>Number of classes.</summary>
    public const int Classes = 10;

    /// <summary>
    /// The training or test split as a <see cref="TensorDataset"/> of float32 images [N, 1, rows, cols] in [0, 1]
    /// and int64 labels [N].
    /// </summary>
    public static TensorDataset Load(string root, bool train = true)
    {
        ArgumentNullException.ThrowIfNull(root);
        string prefix = train ? "train" : "t10k";
        string imagesPath = Locate(root, $"{prefix}-images-idx3-ubyte");
        string labelsPath = Locate(root, $"{prefix}-labels-idx1-ubyte");
        IdxData images = IdxFile.Read(imagesPath, expectedDimensions: 3);
        IdxData labels = IdxFile.Read(labelsPath, expectedDimensions: 1);
        if (labels.Shape[0] != images.Shape[0])
            throw new InvalidDataException($"{labelsPath}: {labels.Shape[0]} labels but {imagesPath} holds {images.Shape[0]} images");

        ImageTensors.CheckLabels(labels.Data, Classes, labelsPath);

        using Tensor x = ImageTensors.Pixels(images.Data, [images.Shape[0], 1, images.Shape[1], images.Shape[2]]);
        using Tensor y = ImageTensors.Labels(labels.Data);
        return new TensorDataset(x, y);
    }

    // Distributions ship the files gzipped or already unpacked; either is accepted.
    private static string Locate(string root, string name)
    {
        string raw = Path.Combine(root, name);
        if (File.Exists(raw)) return raw;
        if (File.Exists(raw + ".gz")) return raw + ".gz";
        throw new FileNotFoundException($"{raw}.gz: file not found (nor {raw})", raw + ".gz");
    }
}
