namespace LowRankBias.Torch.Optim;

/// <summary>lr = base_lr · γ^⌊epoch / step_size⌋.</summary>
public sealed class StepLR : LRScheduler
{
    /// <summary>Multiplies the rate by <paramref name="gamma"/> every <paramref name="step_size"/> epochs.</summary>
    public StepLR(Optimizer optimizer, long step_size, double gamma = 0.1) : base(optimizer, Schedule(step_size, gamma))
    {
    }

    private static Func<long, double, double> Schedule(long stepSize, double gamma)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        return (epoch, lr) => lr * Math.Pow(gamma, epoch / stepSize);
    }
}
