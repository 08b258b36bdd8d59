namespace LowRankBias.Torch.Data;

/// <summary>Turning decoded image and label bytes into the tensors the image datasets return.</summary>
internal static class ImageTensors
{
    /// <summary>float32 pixels scaled from 0…255 to [0, 1], shaped [N, C, H, W].</summary>
    public static Tensor Pixels(ReadOnlySpan<byte> data, long[] shape)
    {
        using Tensor bytes = torch.from_array(data, shape);
        using Tensor floats = bytes.to(ScalarType.Float32);
        return floats.div(255.0);
    }

    /// <summary>int64 labels [N].</summary>
    public static Tensor Labels(ReadOnlySpan<byte> labels)
    {
        using Tensor bytes = torch.from_array(labels, [labels.Length]);
        return bytes.to(ScalarType.Int64);
    }

    /// <summary>Throws unless every label read from <paramref name="path"/> lies in [0, classes).</summary>
    public static void CheckLabels(ReadOnlySpan<byte> labels, int classes, string path, string what = "label")
    {
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] >= classes) throw DataFile.Malformed(path, $"{what} {labels[i]} of sample {i} is outside 0…{classes - 1}");
    }
}
