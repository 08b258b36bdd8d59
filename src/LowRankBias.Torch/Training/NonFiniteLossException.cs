namespace LowRankBias.Torch.Training;

/// <summary>A training step's loss was NaN or ±∞: a <see cref="Trainer"/> whose <see cref="TrainerOptions.NonFiniteLoss"/>
/// is <see cref="NonFiniteLoss.Stop"/>, or an LTE trainer naming the head, stopped before the step changed any weight.</summary>
public sealed class NonFiniteLossException(string message, long step, double loss) : Exception(message)
{
    /// <summary>The step (1-based, counted over resumed runs; an LTE trainer's iteration) whose loss was not finite.</summary>
    public long Step { get; } = step;

    /// <summary>The loss: NaN, +∞ or −∞.</summary>
    public double Loss { get; } = loss;
}
