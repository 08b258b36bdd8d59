namespace LowRankBias.Torch.Data;

/// <summary>Argument checks shared by the batch transforms.</summary>
internal static class ImageBatch
{
    /// <summary>Throws unless <paramref name="batch"/> is an image batch [B, C, H, W].</summary>
    public static void Check(Tensor batch, string transform)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.dim() != 4)
            throw new ArgumentException($"{transform} expects an image batch [B, C, H, W], not [{string.Join(", ", batch.shape)}]", nameof(batch));
    }
}
