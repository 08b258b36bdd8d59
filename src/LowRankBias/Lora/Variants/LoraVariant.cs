using LowRankBias.Torch;

namespace LowRankBias.Lora.Variants;

/// <summary>
/// What sets one kind of LoRA adapter apart (PEFT's <c>LoraVariant</c>: <c>init</c>, <c>forward</c>, <c>merge_safe</c>/<c>merge_unsafe</c>,
/// <c>unmerge</c>): the per-adapter tensors it adds to A and B, its forward pass, how it folds into the base weight and
/// comes out again. <see cref="LoraLayer"/> routes every adapter through its variant (forward, merge, unmerge, the
/// effective weight, adapter files), so a new variant is one file deriving from this class plus one line in
/// <see cref="LoraVariants"/>. One instance per adapter of a layer, which may keep what an unmerge needs. Weights handed in
/// and returned are in the layer's work dtype (float32, float64 for a float64 base) and the base weight's layout.
/// </summary>
internal abstract class LoraVariant
{
    /// <summary>The config key that asks for the variant (PEFT's, e.g. <c>use_dora</c>), for messages.</summary>
    public abstract string Name { get; }

    /// <summary>Whether merging adds an update that depends on the factors alone (W ← W + ΔW): what LTE's merge,
    /// W += s/N Σ BₙAₙ, assumes.</summary>
    public virtual bool MergesAdditively => true;

    /// <summary>The names of the variant's per-adapter tensors (state-dict attributes of the layer, also keys in PEFT's
    /// files relative to the layer), in the order <see cref="TensorShapes"/> gives their shapes.</summary>
    public virtual IReadOnlyList<string> TensorNames => [];

    /// <summary>Throws an <see cref="ArgumentException"/> if <paramref name="layer"/> cannot carry the variant with <paramref name="config"/>.</summary>
    public virtual void CheckFits(LoraLayer layer, LoraConfig config) { }

    /// <summary>Shapes of the tensors named by <see cref="TensorNames"/> for an adapter with <paramref name="config"/> on <paramref name="layer"/>.</summary>
    public virtual IReadOnlyList<long[]> TensorShapes(LoraLayer layer, LoraConfig config) => [];

    /// <summary>Fills the variant's tensors (registered as zeros) once the factors are drawn; runs without autograd.</summary>
    public virtual void Init(LoraLayer layer, string adapter) { }

    /// <summary><paramref name="result"/> (the base output plus the adapters before this one, in the output dtype) with
    /// this adapter applied to <paramref name="input"/>; a new tensor of <paramref name="result"/>'s dtype.</summary>
    public abstract Tensor Forward(LoraLayer layer, string adapter, Tensor input, Tensor result);

    /// <summary>The base weight <paramref name="weight"/> with the adapter folded in, as a new tensor; changes nothing.</summary>
    public abstract Tensor Merged(LoraLayer layer, string adapter, Tensor weight);

    /// <summary>As <see cref="Merged"/>, for an actual merge: may keep what <see cref="Unmerged"/> needs.</summary>
    public virtual Tensor Merge(LoraLayer layer, string adapter, Tensor weight) => Merged(layer, adapter, weight);

    /// <summary>The weight before the last <see cref="Merge"/>, computed from the merged <paramref name="merged"/> and the
    /// current tensors: exact up to rounding when neither changed.</summary>
    public abstract Tensor Unmerged(LoraLayer layer, string adapter, Tensor merged);

    /// <summary>Frees what the variant keeps between a merge and its unmerge.</summary>
    public virtual void Release() { }
}
