using LowRankBias.Torch;

namespace LowRankBias.Lora.Merging;

/// <summary>
/// The factors of a weighted combination of adapters in one LoRA layer (PEFT's per-layer paths of
/// <c>add_weighted_adapter</c>). Adapters the layer does not hold are skipped, as in PEFT. Results are in the factors'
/// dtype, shaped like the new adapter's factors: a layer whose combined
/// rank is smaller gets zero rows of A and zero columns of B, which leave ΔW unchanged.
/// </summary>
internal static class WeightedLayerMerge
{
    /// <summary>The types combined in factor space (A and B separately, each with √|w·s|, the sign on A).</summary>
    public static readonly string[] FactorSpace = ["linear", "ties", "dare_linear", "dare_ties", "magnitude_prune"];

    /// <summary>The types combined in weight space and factored back by a truncated SVD.</summary>
    public static readonly string[] WeightSpace = ["svd", "ties_svd", "dare_linear_svd", "dare_ties_svd", "magnitude_prune_svd"];

    public static (Tensor a, Tensor b) Combine(LoraLayer layer, string type, IReadOnlyList<(string adapter, double weight)> sources,
        WeightedAdapterOptions options, long[] aShape, long[] bShape)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var present = sources.Where(s => layer.adapter_configs.ContainsKey(s.adapter)).ToList();
        (Tensor a, Tensor b) = type == "cat" ? Cat(layer, present)
            : FactorSpace.Contains(type) ? InFactorSpace(layer, type, present, options)
            : InWeightSpace(layer, type, present, options, aShape[0]);
        return (Pad(a, aShape, 0).MoveToOuterDisposeScope(), Pad(b, bShape, 1).MoveToOuterDisposeScope());
    }

    // A = [w₁s₁A₁; w₂s₂A₂; …], B = [B₁ B₂ …]: BA = Σ wᵢsᵢBᵢAᵢ exactly.
    private static (Tensor a, Tensor b) Cat(LoraLayer layer, List<(string adapter, double weight)> present) => (
        torch.cat(present.Select(p => layer.lora_A[p.adapter] * (p.weight * layer.scaling[p.adapter])).ToArray(), 0),
        torch.cat(present.Select(p => layer.lora_B[p.adapter]).ToArray(), 1));

    // PEFT's _generalized_task_arithmetic_weighted_adapter: A and B merged separately with √|w·s| (sign on A only, so
    // that a negative weight negates BA once). Cross terms BᵢAⱼ remain, as in PEFT.
    private static (Tensor a, Tensor b) InFactorSpace(LoraLayer layer, string type, List<(string adapter, double weight)> present, WeightedAdapterOptions options)
    {
        Tensor first = layer.lora_A[present[0].adapter];
        double[] scaled = present.Select(p => p.weight * layer.scaling[p.adapter]).ToArray();
        Tensor weightsA = torch.tensor(scaled.Select(w => Math.Sqrt(Math.Abs(w)) * (w >= 0 ? 1 : -1)).ToArray()).to(first.device, first.dtype);
        Tensor weightsB = torch.tensor(scaled.Select(w => Math.Sqrt(Math.Abs(w))).ToArray()).to(first.device, first.dtype);
        Tensor a = Apply(type, present.Select(p => layer.lora_A[p.adapter]).ToArray(), weightsA, options);
        Tensor b = Apply(type, present.Select(p => layer.lora_B[p.adapter]).ToArray(), weightsB, options);
        return (a, b);
    }

    // PEFT's _svd_generalized_task_arithmetic_weighted_adapter: ΔWᵢ = get_delta_weight (which carries sᵢ) merged with
    // weights wᵢ·sᵢ, as a matrix (convolutions flattened, embeddings [dim, num]), then B = U_k diag(S_k), A = V_kᵀ with
    // k = min(new rank, min(m, n)), optionally clamped to ± the svd_clamp quantile of their entries.
    private static (Tensor a, Tensor b) InWeightSpace(LoraLayer layer, string type, List<(string adapter, double weight)> present,
        WeightedAdapterOptions options, long newRank)
    {
        Tensor[] deltas = present.Select(p => layer.get_delta_weight(p.adapter)).ToArray();
        Tensor weights = torch.tensor(present.Select(p => p.weight * layer.scaling[p.adapter]).ToArray()).to(deltas[0].device, deltas[0].dtype);
        Tensor delta = Apply(type == "svd" ? "linear" : type[..^"_svd".Length], deltas, weights, options);
        Tensor matrix = layer is LoraEmbedding ? delta.t() : delta.flatten(1);
        (Tensor u, Tensor s, Tensor vh) = torch.linalg.svd(matrix, options.svd_full_matrices);
        long k = Math.Min(newRank, s.size(0));
        Tensor b = u.narrow(1, 0, k) * s.narrow(0, 0, k).unsqueeze(0);
        Tensor a = vh.narrow(0, 0, k);
        if (options.svd_clamp is double q)
        {
            double high = Quantile(torch.cat([b.reshape(-1), a.reshape(-1)]), q).item<double>();
            b = b.clamp(-high, high);
            a = a.clamp(-high, high);
        }
        long[] aMatrix = [k, .. layer.lora_A[present[0].adapter].shape[1..]];
        long[] bMatrix = [layer.lora_B[present[0].adapter].size(0), k, .. layer.lora_B[present[0].adapter].shape[2..]];
        return (a.reshape(aMatrix), b.reshape(bMatrix));
    }

    private static Tensor Apply(string type, Tensor[] tensors, Tensor weights, WeightedAdapterOptions o) => type switch
    {
        "linear" => MergeUtils.task_arithmetic(tensors, weights),
        "ties" => MergeUtils.ties(tensors, weights, o.density!.Value, o.majority_sign_method),
        "dare_linear" => MergeUtils.dare_linear(tensors, weights, o.density!.Value),
        "dare_ties" => MergeUtils.dare_ties(tensors, weights, o.density!.Value, o.majority_sign_method),
        "magnitude_prune" => MergeUtils.magnitude_prune(tensors, weights, o.density!.Value),
        _ => throw new ArgumentException($"unknown combination type '{type}'", nameof(type)),
    };

    private static readonly Op s_quantile = new("aten::quantile", "scalar");

    private static Tensor Quantile(Tensor values, double q) => s_quantile.Call(values, q);

    // x widened to `shape` along `dim` with zeros.
    private static Tensor Pad(Tensor x, long[] shape, int dim)
    {
        if (x.shape.SequenceEqual(shape)) return x;
        Tensor padded = torch.zeros(shape, x.dtype, x.device);
        padded.narrow(dim, 0, x.size(dim)).copy_(x);
        return padded;
    }
}

/// <summary>The settings of one <see cref="LoraModel.add_weighted_adapter"/> call that the per-layer merges read.</summary>
internal sealed record WeightedAdapterOptions(double? density, string majority_sign_method, double? svd_clamp, bool svd_full_matrices);
