namespace LowRankBias.Torch.Data;

/// <summary>
/// Reader for the CIFAR binary format: fixed-size records of one or more label bytes followed by a 32×32 colour
/// image as 1024 red, 1024 green and 1024 blue bytes (rows in order).
/// </summary>
internal static class CifarFile
{
    public const int Side = 32, Channels = 3, ImageBytes = Channels * Side * Side;

    /// <summary>The records of several files, concatenated: float32 images [N, 3, 32, 32] then one int64 label tensor per label byte.</summary>
    /// <param name="paths">The files, in order.</param>
    /// <param name="labels">Name and class count of each label byte, in record order.</param>
    public static TensorDataset Read(IReadOnlyList<string> paths, IReadOnlyList<(string Name, int Classes)> labels)
    {
        int recordBytes = labels.Count + ImageBytes;
        byte[][] contents = paths.Select(path => ReadChecked(path, recordBytes)).ToArray();
        int records = contents.Sum(bytes => bytes.Length / recordBytes);

        var pixels = new byte[(long)records * ImageBytes];
        byte[][] labelBytes = labels.Select(_ => new byte[records]).ToArray();
        int first = 0;
        for (int f = 0; f < contents.Length; f++)
        {
            int count = contents[f].Length / recordBytes;
            for (int r = 0; r < count; r++)
            {
                ReadOnlySpan<byte> record = contents[f].AsSpan(r * recordBytes, recordBytes);
                for (int k = 0; k < labels.Count; k++) labelBytes[k][first + r] = record[k];
                record[labels.Count..].CopyTo(pixels.AsSpan((first + r) * ImageBytes));
            }
            for (int k = 0; k < labels.Count; k++)
                ImageTensors.CheckLabels(labelBytes[k].AsSpan(first, count), labels[k].Classes, paths[f], labels[k].Name);
            first += count;
        }

        using var scope = torch.NewDisposeScope();
        Tensor[] tensors = [ImageTensors.Pixels(pixels, [records, Channels, Side, Side]), .. labelBytes.Select(b => ImageTensors.Labels(b))];
        return new TensorDataset(tensors);
    }

    private static byte[] ReadChecked(string path, int recordBytes)
    {
        byte[] bytes = DataFile.ReadAllBytes(path);
        if (bytes.Length == 0) throw DataFile.Malformed(path, "the file is empty");
        if (bytes.Length % recordBytes != 0)
            throw DataFile.Malformed(path, $"size {bytes.Length} is not a multiple of the {recordBytes}-byte record");
        return bytes;
    }
}
