namespace LowRankBias.Torch.Optim;

/// <summary>lr = base_lr · lr_lambda(epoch): any closed-form schedule, e.g. a warm-up followed by step decay.</summary>
public sealed class LambdaLR : LRScheduler
{
    /// <summary>Scales each group's initial rate by <paramref name="lr_lambda"/>(epoch), which must be finite and ≥ 0.</summary>
    public LambdaLR(Optimizer optimizer, Func<long, double> lr_lambda) : base(optimizer, Schedule(lr_lambda))
    {
    }

    private static Func<long, double, double> Schedule(Func<long, double> lr_lambda)
    {
        ArgumentNullException.ThrowIfNull(lr_lambda);
        return (epoch, lr) =>
        {
            double factor = lr_lambda(epoch);
            if (!(factor >= 0 && double.IsFinite(factor)))
                throw new ArgumentOutOfRangeException(nameof(lr_lambda), factor, $"lr_lambda({epoch}) must be a finite factor >= 0");
            return lr * factor;
        };
    }
}
