namespace LowRankBias.Torch.Optim;

/// <summary>lr = base_lr · γ^(number of milestones ≤ epoch).</summary>
public sealed class MultiStepLR : LRScheduler
{
    /// <summary>Multiplies the rate by <paramref name="gamma"/> at each milestone epoch (a repeated milestone counts twice).</summary>
    public MultiStepLR(Optimizer optimizer, IEnumerable<long> milestones, double gamma = 0.1) : base(optimizer, Schedule(milestones, gamma))
    {
    }

    private static Func<long, double, double> Schedule(IEnumerable<long> milestones, double gamma)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        long[] at = milestones.ToArray();
        if (at.Any(m => m < 1)) throw new ArgumentOutOfRangeException(nameof(milestones), $"milestones must be positive epochs, got [{string.Join(", ", at)}]");
        return (epoch, lr) => lr * Math.Pow(gamma, at.Count(m => m <= epoch));
    }
}
