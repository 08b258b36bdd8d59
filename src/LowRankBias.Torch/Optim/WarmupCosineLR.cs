namespace LowRankBias.Torch.Optim;

/// <summary>
/// Linear warm-up then cosine decay: for epoch e &lt; W, lr = base·(e + 1)/W (reaching base at the end of warm-up
/// without a zero-rate step); for W ≤ e ≤ T, lr = η_min + (base − η_min)·(1 + cos(π(e − W)/(T − W)))/2; after T,
/// η_min.
/// </summary>
public sealed class WarmupCosineLR : LRScheduler
{
    /// <summary>Warms up over <paramref name="warmup_steps"/> epochs and decays to <paramref name="eta_min"/> at
    /// <paramref name="total_steps"/>.</summary>
    public WarmupCosineLR(Optimizer optimizer, long warmup_steps, long total_steps, double eta_min = 0)
        : base(optimizer, Schedule(warmup_steps, total_steps, eta_min))
    {
    }

    internal static Func<long, double, double> Schedule(long warmup, long total, double etaMin)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        if (total <= warmup) throw new ArgumentOutOfRangeException(nameof(total), total, $"total_steps must exceed warmup_steps ({warmup})");
        if (!(etaMin >= 0)) throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, "eta_min must be >= 0");
        return (epoch, lr) =>
        {
            if (epoch < warmup) return lr * (epoch + 1) / warmup;
            if (epoch >= total) return etaMin;
            double progress = (double)(epoch - warmup) / (total - warmup);
            return etaMin + (lr - etaMin) * (1 + Math.Cos(Math.PI * progress)) / 2;
        };
    }
}
