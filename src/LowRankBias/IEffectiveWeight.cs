using LowRankBias.Torch;

namespace LowRankBias;

/// <summary>
/// A layer that computes what a plain <c>Linear</c>, <c>Conv2d</c> or <c>Embedding</c> would with one weight derived
/// from its parameters: a LoRA layer (W + s·BA, or a variant's form such as DoRA's rescaled rows), an over-parameterised
/// layer (the product of its factors). Whatever measures weights — the spectral monitor — reads this interface rather than
/// knowing each kind of layer, so it depends on neither kind.
/// </summary>
public interface IEffectiveWeight
{
    /// <summary>The weight of the equivalent plain layer, in that layer's layout ([out, in], [out, in, kh, kw] or an
    /// embedding's table [num_embeddings, embedding_dim]); owned by the caller's dispose scope. It may be differentiable
    /// with respect to the layer's parameters: wrap the call in <c>no_grad</c> for analysis.</summary>
    Tensor EffectiveWeight();

    /// <summary>Whether the equivalent plain layer looks rows up by index (an embedding): its out × in matrix is then the
    /// transpose of <see cref="EffectiveWeight"/>.</summary>
    bool EffectiveWeightIsTable { get; }
}
