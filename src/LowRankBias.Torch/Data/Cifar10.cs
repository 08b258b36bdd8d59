namespace LowRankBias.Torch.Data;

/// <summary>CIFAR-10 in its binary version: <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> and <c>test_batch.bin</c>.</summary>
public static class Cifar10
{
    /// <summary>Number of classes.</summary>
    public const int Classes = 10;

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The training (50 000) or test (10 000) split from <paramref name="folder"/>: float32 images [N, 3, 32, 32] in [0, 1] and int64 labels.</summary>
    public static TensorDataset Load(string folder, bool train = true)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string[] names = train ? [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")] : ["test_batch.bin"];
        return CifarFile.Read([.. names.Select(n => Path.Combine(folder, n))], [("label", Classes)]);
    }
}
