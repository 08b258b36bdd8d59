namespace LowRankBias.Torch.Data;

/// <summary>A transformation of a whole image batch [B, C, H, W], applied as tensor ops on the batch's device.</summary>
public interface IBatchTransform
{
    /// <summary>The transformed batch, a new tensor in the caller's dispose scope.</summary>
    Tensor Apply(Tensor batch);
}
