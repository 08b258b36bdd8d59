namespace LowRankBias.Torch.Optim;

// The check behind error_if_nonfinite.
public abstract partial class Optimizer
{
    // One _foreach_norm(2) over every gradient (fused on CUDA, and 5x faster than an ∞-norm on CPU) and one read: a
    // gradient holding NaN or ±∞ has a NaN or ∞ norm. A norm can also overflow on huge finite values, so only then are
    // the gradients looked at one by one.
    private void CheckFinite(List<(Tensor parameter, Tensor grad)> pairs)
    {
        pairs = pairs.Where(p => p.grad.numel() > 0).ToList();
        if (pairs.Count == 0) return;
        using var scope = torch.NewDisposeScope(); // the norms and their copies
        Tensor[] norms = Foreach.norm(pairs.Select(p => p.grad).ToArray(), 2);
        Device device = pairs[0].grad.device;
        if (pairs.Any(p => p.grad.device != device)) norms = norms.Select(n => n.to(device)).ToArray();
        if (NonFiniteValues.AllFinite(torch.stack(norms))) return;
        (Tensor parameter, Tensor grad) = pairs.FirstOrDefault(p => !NonFiniteValues.AllFinite(p.grad));
        if (parameter is null) return; // an overflowing norm of finite values
        int index = _groups.SelectMany(g => g.@params).Select((p, i) => (p, i)).First(x => ReferenceEquals(x.p, parameter)).i;
        throw new NonFiniteGradientException($"{GetType().Name}.step(): the gradient of parameter {index} (shape " +
            $"[{string.Join(", ", parameter.shape)}]) holds {NonFiniteValues.Describe(grad)}; no parameter was updated. Lower " +
            "the learning rate or clip the gradients, or set error_if_nonfinite = false to apply such steps as PyTorch does", index);
    }
}
