namespace LowRankBias.Torch.Data;

/// <summary>CIFAR-100 in its binary version: <c>train.bin</c> and <c>test.bin</c>, each record labelled coarse (20) then fine (100).</summary>
public static class Cifar100
{
    /// <summary>Number of fine classes.</summary>
    public const int FineClasses = 100;

    /// <summary>Number of coarse classes (superclasses).</summary>
    public const int CoarseClasses = 20;

    /// <summary>
    /// The training (50 000) or test (10 000) split from <paramref name="folder"/>: float32 images [N, 3, 32, 32]
    /// in [0, 1], int64 fine labels and int64 coarse labels, in that order.
    /// </summary>
    public static TensorDataset Load(string folder, bool train = true)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string path = Path.Combine(folder, train ? "train.bin" : "test.bin");
        using TensorDataset coarseFirst = CifarFile.Read([path], [("coarse label", CoarseClasses), ("fine label", FineClasses)]);
        IReadOnlyList<Tensor> t = coarseFirst.tensors;
        return new TensorDataset(t[0], t[2], t[1]);
    }
}
