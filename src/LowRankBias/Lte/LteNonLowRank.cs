namespace LowRankBias.Lte;

/// <summary>
/// How LTE trains the parameters that have no low-rank form: biases, LayerNorm affine parameters, a ViT's class token
/// and position embedding, and the layers left out of the targets (a classifier, a patch projection). The LTE paper
/// (appendix A.1) tried several choices with comparable results. Each head trains p + δₙ on its own group of the batch
/// with its own optimizer state, without weight decay on δ, and a merge folds p ← p + mean δ. Supported owners:
/// <c>Linear</c>, <c>Conv2d</c>, <c>Embedding</c> and <c>LayerNorm</c> layers, and the class token and position
/// embedding of a <c>VisionTransformer</c>; any other trainable parameter is rejected (freeze it, or use
/// <see cref="Frozen"/>).
/// </summary>
public enum LteNonLowRank
{
    /// <summary>DDP-style averaging (the paper's choice for embeddings): δₙ is a free replica offset, so head n holds a
    /// full replica p + δₙ, and a merge replaces the replicas by their average.</summary>
    Averaged,

    /// <summary>Every parameter without a low-rank form stays at its initial value (the paper's "removing affine parameters").</summary>
    Frozen,

    /// <summary>
    /// LoRA-style vector-scalar parameterisation (the paper's choice for affine parameters in its main experiments):
    /// a vector's offset is δₙ = s·bₙ·aₙ with aₙ a random unit vector and the scalar bₙ starting at zero, s the heads'
    /// scale α/r; a merge folds the mean and zeroes every b. Parameters with more than one dimension (weights of
    /// layers left out of the targets, tokens) are averaged as with <see cref="Averaged"/>.
    /// </summary>
    VectorScalar,
}
