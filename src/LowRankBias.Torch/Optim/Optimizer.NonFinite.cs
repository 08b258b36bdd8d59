namespace LowRankBias.Torch.Optim;

// The check behind error_if_nonfinite.
public abstract partial class Optimizer
{
    // One _foreach_norm(∞) over every gradient and one read: max |g| is NaN or ±∞ exactly when g holds NaN or ±∞ (unlike
    // a 2-norm, it cannot overflow on large finite values). Only on failure are the gradients looked at one by one.
    private void CheckFinite(List<(Tensor parameter, Tensor grad)> pairs)
    {
        pairs = pairs.Where(p => p.grad.numel() > 0).ToList();
        if (pairs.Count == 0) return;
        Tensor[] maxima = Foreach.norm(pairs.Select(p => p.grad).ToArray(), double.PositiveInfinity);
        Device device = pairs[0].grad.device;
        using (Tensor all = torch.stack(maxima.Select(m => m.to(device)).ToArray()))
            if (NonFiniteValues.AllFinite(all)) return;
        (Tensor parameter, Tensor grad) = pairs.First(p => !NonFiniteValues.AllFinite(p.grad));
        int index = _groups.SelectMany(g => g.@params).Select((p, i) => (p, i)).First(x => ReferenceEquals(x.p, parameter)).i;
        throw new NonFiniteGradientException($"{GetType().Name}.step(): the gradient of parameter {index} (shape " +
            $"[{string.Join(", ", parameter.shape)}]) holds {NonFiniteValues.Describe(grad)}; no parameter was updated. Lower " +
            "the learning rate or clip the gradients, or set error_if_nonfinite = false to apply such steps as PyTorch does", index);
    }
}
