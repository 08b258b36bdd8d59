namespace LoraVariants;

/// <summary>Fashion-MNIST cut to class subsets, and the images shaped for the ViT.</summary>
internal static class Data
{
    /// <summary>
    /// The samples whose label is in [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>), in
    /// the file's order, at most <paramref name="limit"/> of them; with <paramref name="relabel"/> their labels become 0 … count − 1.
    /// </summary>
    public static TensorDataset Classes(TensorDataset all, int first, int count, bool relabel, int limit = int.MaxValue)
    {
        long[] labels = all.tensors[1].ToArray<long>();
        long[] kept = Enumerable.Range(0, labels.Length).Where(i => labels[i] >= first && labels[i] < first + count).Take(limit).Select(i => (long)i).ToArray();
        using var scope = NewDisposeScope();
        Tensor index = tensor(kept);
        Tensor y = all.tensors[1].index_select(0, index);
        return new TensorDataset(all.tensors[0].index_select(0, index), relabel ? y - first : y);
    }

    /// <summary>28×28 grey images zero-padded to the model's size, the grey channel repeated to its channels.</summary>
    public static Tensor Prepare(Tensor images, long imageSize, long channels)
    {
        long pad = (imageSize - 28) / 2;
        return nn.functional.pad(images, [pad, imageSize - 28 - pad, pad, imageSize - 28 - pad]).expand(-1, channels, -1, -1);
    }
}
