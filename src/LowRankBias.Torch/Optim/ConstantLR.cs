namespace LowRankBias.Torch.Optim;

/// <summary>lr = base_lr · factor for the first total_iters epochs, then base_lr.</summary>
public sealed class ConstantLR : LRScheduler
{
    /// <summary>Scales the rate by <paramref name="factor"/> (in [0, 1]) until epoch <paramref name="total_iters"/>.</summary>
    public ConstantLR(Optimizer optimizer, double factor = 1.0 / 3, long total_iters = 5) : base(optimizer, Schedule(factor, total_iters))
    {
    }

    private static Func<long, double, double> Schedule(double factor, long totalIters)
    {
        if (!(factor >= 0 && factor <= 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "factor must be in [0, 1]");
        ArgumentOutOfRangeException.ThrowIfNegative(totalIters);
        return (epoch, lr) => epoch < totalIters ? lr * factor : lr;
    }
}
