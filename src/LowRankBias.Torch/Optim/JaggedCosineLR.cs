namespace LowRankBias.Torch.Optim;

/// <summary>
/// ReLoRA's jagged schedule (Lialin et al. 2023): <see cref="WarmupCosineLR"/>'s warm-up and cosine decay, times a
/// short linear re-warm-up after every restart — at epochs k·R (k ≥ 1), the rate climbs back over
/// <c>restart_warmup_steps</c> epochs, (e mod R + 1)/restart_warmup_steps of the cosine value, so that the optimizer
/// state reset at a merge does not meet a full learning rate.
/// </summary>
public sealed class JaggedCosineLR : LRScheduler
{
    /// <summary>Cosine decay over <paramref name="total_steps"/> with a first warm-up of <paramref name="warmup_steps"/>,
    /// re-warmed over <paramref name="restart_warmup_steps"/> after every <paramref name="restart_every"/> epochs.</summary>
    public JaggedCosineLR(Optimizer optimizer, long warmup_steps, long total_steps, long restart_every, long restart_warmup_steps, double eta_min = 0)
        : base(optimizer, Schedule(warmup_steps, total_steps, restart_every, restart_warmup_steps, eta_min))
    {
    }

    private static Func<long, double, double> Schedule(long warmup, long total, long restartEvery, long restartWarmup, double etaMin)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(restartEvery, "restart_every");
        ArgumentOutOfRangeException.ThrowIfNegative(restartWarmup, "restart_warmup_steps");
        if (restartWarmup > restartEvery) throw new ArgumentOutOfRangeException("restart_warmup_steps", restartWarmup, $"must not exceed restart_every ({restartEvery})");
        Func<long, double, double> cosine = WarmupCosineLR.Schedule(warmup, total, etaMin);
        return (epoch, lr) =>
        {
            long sinceRestart = epoch % restartEvery;
            double rewarm = epoch >= restartEvery && sinceRestart < restartWarmup ? (sinceRestart + 1.0) / restartWarmup : 1;
            return cosine(epoch, lr) * rewarm;
        };
    }
}
