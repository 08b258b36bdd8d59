namespace LowRankBias.Torch.Training;

/// <summary>What a <see cref="Trainer"/> does when a training step's loss is NaN or ±∞.</summary>
public enum NonFiniteLoss
{
    /// <summary>Throw a <see cref="NonFiniteLossException"/> before the step's backward pass, so the weights stay those
    /// of the last finite step (the default: a run that diverged should not go on silently).</summary>
    Stop,
    /// <summary>Skip the backward pass and the optimizer step, as a GradScaler skips a step with inf/NaN gradients,
    /// and go on; the step still counts (and the scheduler steps), its loss is left out of the metrics.</summary>
    SkipStep,
}
