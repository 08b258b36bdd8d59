using LowRankBias.Torch;

namespace LowRankBias.Lora.Merging;

/// <summary>
/// Tensor-level merging of task tensors (PEFT's <c>peft.utils.merge_utils</c>): pruning by magnitude or at random
/// (DARE), TIES' majority sign and disjoint mean, and the five merges built from them. <c>task_tensors</c> are equally
/// shaped; <c>weights</c> is a 1-D tensor with one weight per task tensor, in their dtype and on their device. Every
/// function returns a new tensor and leaves its inputs alone. Random pruning draws from the global generator with
/// <c>torch.bernoulli</c>, as PyTorch does, so <c>torch.manual_seed</c> reproduces PyTorch's masks.
/// </summary>
public static class MergeUtils
{
    /// <summary>The majority sign rules of TIES: sum of the values (<c>"total"</c>) or of their signs (<c>"frequency"</c>).</summary>
    public static IReadOnlyList<string> MajoritySignMethods { get; } = ["total", "frequency"];

    /// <summary>Keeps the ⌊density·numel⌋ entries of largest magnitude (<c>torch.topk</c>) and zeroes the rest.</summary>
    public static Tensor magnitude_based_pruning(Tensor tensor, double density)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var scope = torch.NewDisposeScope();
        Tensor flat = tensor.abs().reshape(-1);
        long k = (long)(density * tensor.numel());
        (_, Tensor indices) = flat.topk(k);
        Tensor mask = torch.zeros_like(flat).scatter(0, indices, torch.ones_like(indices, flat.dtype));
        return (tensor * mask.reshape(tensor.shape)).MoveToOuterDisposeScope();
    }

    /// <summary>Keeps each entry with probability <paramref name="density"/> (<c>torch.bernoulli</c>), divided by it when
    /// <paramref name="rescale"/> so the expectation is the input (DARE).</summary>
    public static Tensor random_pruning(Tensor tensor, double density, bool rescale)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var scope = torch.NewDisposeScope();
        Tensor pruned = tensor * torch.bernoulli(torch.full_like(tensor, density));
        return (rescale ? pruned / density : pruned).MoveToOuterDisposeScope();
    }

    /// <summary>Prunes by <paramref name="method"/> (<c>"magnitude"</c> or <c>"random"</c>); a density of 1 or more keeps
    /// everything (a copy), a negative one is an error.</summary>
    public static Tensor prune(Tensor tensor, double density, string method, bool rescale = false)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (method is not ("magnitude" or "random"))
            throw new ArgumentException($"unknown pruning method '{method}': expected magnitude or random", nameof(method));
        if (!(density >= 0)) throw new ArgumentOutOfRangeException(nameof(density), density, "density must be >= 0");
        if (density >= 1) return tensor.clone();
        return method == "magnitude" ? magnitude_based_pruning(tensor, density) : random_pruning(tensor, density, rescale);
    }

    /// <summary>For task tensors stacked on dimension 0: true where an entry's sign is the majority sign of its position
    /// (ties go to +; zeros never agree).</summary>
    public static Tensor calculate_majority_sign_mask(Tensor tensor, string method = "total")
    {
        ArgumentNullException.ThrowIfNull(tensor);
        CheckMajoritySignMethod(method);
        using var scope = torch.NewDisposeScope();
        Tensor sign = tensor.sign();
        Tensor magnitude = method == "total" ? tensor.sum(0) : sign.sum(0);
        Tensor majority = (magnitude >= 0).to(sign.dtype) * 2 - 1; // +1 where the sum is >= 0, else −1
        return (sign == majority).MoveToOuterDisposeScope();
    }

    /// <summary>The mean over dimension 0 of the entries the mask keeps (each position divided by its count, at least 1).</summary>
    public static Tensor disjoint_merge(Tensor task_tensors, Tensor majority_sign_mask)
    {
        ArgumentNullException.ThrowIfNull(task_tensors);
        ArgumentNullException.ThrowIfNull(majority_sign_mask);
        using var scope = torch.NewDisposeScope();
        Tensor kept = (task_tensors * majority_sign_mask).sum(0);
        Tensor count = majority_sign_mask.sum(0).to(task_tensors.dtype).clamp(min: 1.0);
        return (kept / count).MoveToOuterDisposeScope();
    }

    /// <summary>Σᵢ wᵢ·τᵢ.</summary>
    public static Tensor task_arithmetic(IReadOnlyList<Tensor> task_tensors, Tensor weights) =>
        Merge(task_tensors, weights, t => t.clone(), null);

    /// <summary>Σᵢ wᵢ·prune_magnitude(τᵢ).</summary>
    public static Tensor magnitude_prune(IReadOnlyList<Tensor> task_tensors, Tensor weights, double density) =>
        Merge(task_tensors, weights, t => prune(t, density, "magnitude"), null);

    /// <summary>TIES: magnitude pruning, majority sign of the pruned tensors, disjoint mean of the weighted ones.</summary>
    public static Tensor ties(IReadOnlyList<Tensor> task_tensors, Tensor weights, double density, string majority_sign_method = "total") =>
        Merge(task_tensors, weights, t => prune(t, density, "magnitude"), majority_sign_method);

    /// <summary>DARE: random pruning with rescaling, then Σᵢ wᵢ·τᵢ.</summary>
    public static Tensor dare_linear(IReadOnlyList<Tensor> task_tensors, Tensor weights, double density) =>
        Merge(task_tensors, weights, t => prune(t, density, "random", rescale: true), null);

    /// <summary>DARE pruning followed by TIES' sign election and disjoint mean.</summary>
    public static Tensor dare_ties(IReadOnlyList<Tensor> task_tensors, Tensor weights, double density, string majority_sign_method = "total") =>
        Merge(task_tensors, weights, t => prune(t, density, "random", rescale: true), majority_sign_method);

    /// <summary>Throws unless <paramref name="method"/> is one of <see cref="MajoritySignMethods"/>.</summary>
    internal static void CheckMajoritySignMethod(string method)
    {
        if (!MajoritySignMethods.Contains(method))
            throw new ArgumentException($"unknown majority_sign_method '{method}': expected one of {string.Join(", ", MajoritySignMethods)}", nameof(method));
    }

    // Prunes each tensor (in order: random pruning draws tensor by tensor), stacks, weights; sums, or with a sign
    // method takes TIES' disjoint mean with the mask of the unweighted pruned stack.
    private static Tensor Merge(IReadOnlyList<Tensor> task_tensors, Tensor weights, Func<Tensor, Tensor> pruning, string? signMethod)
    {
        ArgumentNullException.ThrowIfNull(task_tensors);
        ArgumentNullException.ThrowIfNull(weights);
        if (task_tensors.Count == 0) throw new ArgumentException("no task tensors to merge", nameof(task_tensors));
        if (weights.dim() != 1 || weights.size(0) != task_tensors.Count)
            throw new ArgumentException($"weights must be 1-D with one weight per task tensor ({task_tensors.Count}), got shape [{string.Join(", ", weights.shape)}]", nameof(weights));
        if (signMethod is not null) CheckMajoritySignMethod(signMethod);
        using var scope = torch.NewDisposeScope();
        Tensor stacked = torch.stack(task_tensors.Select(pruning).ToArray());
        long[] shape = [weights.size(0), .. Enumerable.Repeat(1L, (int)stacked.dim() - 1)];
        Tensor weighted = stacked * weights.view(shape);
        Tensor result = signMethod is null ? weighted.sum(0) : disjoint_merge(weighted, calculate_majority_sign_mask(stacked, signMethod));
        return result.MoveToOuterDisposeScope();
    }
}
