using LowRankBias.Torch;

namespace LowRankBias.Lora.Variants;

/// <summary>
/// DoRA (Liu et al., 2024; PEFT's <c>use_dora</c>): the adapted weight is W' = m ⊙ (W + s·BA) / ‖W + s·BA‖, a trained
/// magnitude m per output channel times the direction LoRA moves. The norm is taken over everything but the output axis —
/// a Linear's rows, a Conv2d's filters, an Embedding's columns (one per embedding dimension, over the vocabulary) — and
/// m (<c>lora_magnitude_vector</c>, PEFT's name in state dicts and files) starts at that norm, so a fresh adapter changes
/// nothing. Shapes follow PEFT: [out] for Linear, [embedding_dim] for Embedding, [1, out, 1, 1] for Conv2d. Single-head
/// adapters only. Follows PEFT's <c>DoraLinearLayer</c>/<c>DoraEmbeddingLayer</c>/<c>DoraConv2dLayer</c> (dora.py) and
/// <c>DoraLinearVariant</c> and its siblings (variants.py).
/// </summary>
internal sealed class Dora : LoraVariant
{
    private const string Magnitude = "lora_magnitude_vector";
    private static readonly Op s_addcmul = new("aten::addcmul");
    private Tensor? _normAtMerge; // ‖W + ΔW‖ of the last merge: the merged weight no longer holds it (PEFT caches it too)

    /// <inheritdoc />
    public override string Name => "use_dora";

    /// <inheritdoc />
    public override bool MergesAdditively => false;

    /// <inheritdoc />
    public override IReadOnlyList<string> TensorNames => [Magnitude];

    /// <inheritdoc />
    public override void CheckFits(LoraLayer layer, LoraConfig config)
    {
        if (config.num_heads != 1)
            throw new ArgumentException($"use_dora supports single-head adapters; this config has num_heads = {config.num_heads}", nameof(config.use_dora));
    }

    /// <inheritdoc />
    public override IReadOnlyList<long[]> TensorShapes(LoraLayer layer, LoraConfig config) => [layer.ChannelShape];

    /// <inheritdoc />
    public override void Init(LoraLayer layer, string adapter)
    {
        Tensor magnitude = layer.VariantTensor(Magnitude, adapter);
        using var scope = torch.NewDisposeScope();
        magnitude.copy_(WeightNorm(layer, adapter, layer.BaseWeight(magnitude.dtype)).reshape(magnitude.shape));
    }

    /// <summary>
    /// PEFT's <c>DoraLinearVariant.forward</c>: result + (k − 1) ⊙ W x' + k ⊙ s·BA x' with k = m / ‖W + s·BA‖ and x' the
    /// LoRA input. Without dropout W x' is the base output already computed (result minus the bias), so the sum folds to
    /// k ⊙ (result − b + s·BA x) + b. With dropout in training, PEFT — and this — computes the base output on the undropped
    /// x but the DoRA correction, both terms, on the dropped x', which costs one more product with W. The norm is computed
    /// once per forward pass, not per token, and detached: a constant in backward (DoRA §4.3), so m gets the gradient of
    /// the scale and A, B only that of the LoRA path.
    /// </summary>
    public override Tensor Forward(LoraLayer layer, string adapter, Tensor input, Tensor result)
    {
        using var scope = torch.NewDisposeScope();
        Tensor magnitude = layer.VariantTensor(Magnitude, adapter);
        ScalarType work = magnitude.dtype;
        Tensor weight = layer.BaseWeight(work);
        Tensor norm;
        using (torch.no_grad()) norm = WeightNorm(layer, adapter, weight).reshape(magnitude.shape);
        Tensor scale = magnitude / norm;
        Tensor x = layer.LoraInput(adapter, input);
        Tensor lora = layer.LoraOutput(adapter, x);
        Tensor? bias = layer.BaseBias?.to(work).reshape(magnitude.shape);
        Tensor output;
        if (Dropped(layer, adapter))
        {
            Tensor dropped = layer.ApplyWeight(x, weight);
            output = result + ((scale - 1) * dropped + scale * lora).to(result.dtype);
        }
        else
        {
            // k ⊙ (result − b + lora) + b as (1 − k) ⊙ b + k ⊙ (result + lora): the bias terms are vectors, so the step
            // costs LoRA's addition and one fused multiply-add over the output.
            Tensor sum = result.to(work) + lora;
            output = (bias is null ? sum * scale : s_addcmul.Call(bias * (1 - scale), sum, scale)).to(result.dtype);
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>PEFT's <c>merge_safe</c>: W' = k ⊙ (W + ΔW) with k = m / ‖W + ΔW‖ along the output axis.</summary>
    public override Tensor Merged(LoraLayer layer, string adapter, Tensor weight) => Fold(layer, adapter, weight, keepNorm: false);

    /// <inheritdoc />
    public override Tensor Merge(LoraLayer layer, string adapter, Tensor weight) => Fold(layer, adapter, weight, keepNorm: true);

    /// <summary>PEFT's <c>unmerge</c>: W = W' / k − ΔW with the norm kept at the merge.</summary>
    public override Tensor Unmerged(LoraLayer layer, string adapter, Tensor merged)
    {
        if (_normAtMerge is null) throw new InvalidOperationException($"adapter '{adapter}' (use_dora) was not merged, so there is nothing to unmerge");
        using var scope = torch.NewDisposeScope();
        Tensor delta = layer.LoraDelta(adapter, merged.dtype);
        Tensor scale = layer.VariantTensor(Magnitude, adapter).to(merged.dtype).reshape(AlongOutputAxis(layer, merged)) /
                       _normAtMerge.to(merged.device, merged.dtype).reshape(AlongOutputAxis(layer, merged));
        return (merged / scale - delta).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override void Release()
    {
        _normAtMerge?.Dispose();
        _normAtMerge = null;
    }

    private Tensor Fold(LoraLayer layer, string adapter, Tensor weight, bool keepNorm)
    {
        using var scope = torch.NewDisposeScope();
        Tensor sum = weight + layer.LoraDelta(adapter, weight.dtype);
        Tensor norm = ChannelNorm(layer, sum);
        long[] view = AlongOutputAxis(layer, weight);
        Tensor scale = layer.VariantTensor(Magnitude, adapter).to(weight.dtype).reshape(view) / norm.reshape(view);
        if (keepNorm)
        {
            Release();
            _normAtMerge = norm.DetachFromDisposeScope();
        }
        return (sum * scale).MoveToOuterDisposeScope();
    }

    // ‖W + s·BA‖ per output channel ([out]), PEFT's get_weight_norm, in weight's dtype.
    private static Tensor WeightNorm(LoraLayer layer, string adapter, Tensor weight)
    {
        using Tensor delta = layer.LoraDelta(adapter, weight.dtype);
        using Tensor sum = weight + delta;
        return ChannelNorm(layer, sum);
    }

    private static Tensor ChannelNorm(LoraLayer layer, Tensor weight) =>
        weight.norm(2, Enumerable.Range(0, (int)weight.dim()).Where(d => d != layer.WeightOutputAxis).Select(d => (long)d).ToArray());

    // The shape that lines a per-channel vector up with the weight's output axis: [-1, 1, …] or, for a table, [1, -1].
    private static long[] AlongOutputAxis(LoraLayer layer, Tensor weight)
    {
        long[] view = Enumerable.Repeat(1L, (int)weight.dim()).ToArray();
        view[layer.WeightOutputAxis] = -1;
        return view;
    }

    private static bool Dropped(LoraLayer layer, string adapter) => layer.training && layer.adapter_configs[adapter].lora_dropout > 0;
}
