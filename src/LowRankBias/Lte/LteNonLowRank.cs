namespace LowRankBias.Lte;

/// <summary>
/// How LTE trains the parameters that have no low-rank form (biases, layers left out of the targets such as a
/// classifier). The LTE paper (appendix A.1) tried several choices with comparable results.
/// </summary>
public enum LteNonLowRank
{
    /// <summary>
    /// DDP-style averaging (the paper's choice for embeddings): each head trains its own replica on its own group of
    /// the batch, with its own optimizer state, and a merge replaces every replica by their average. Replicas are held
    /// as the shared value p plus a stacked per-head offset δ [N, …] (replica n = p + δₙ), so a merge is p ← p + mean δ,
    /// δ ← 0; the offsets train without weight decay. Supported for biases of adapted linear layers and for the weight
    /// and bias of linear layers left out of the targets; any other trainable parameter is rejected.
    /// </summary>
    Averaged,

    /// <summary>Every parameter without a low-rank form stays at its initial value (the paper's "removing affine parameters").</summary>
    Frozen,
}
