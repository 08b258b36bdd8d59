namespace LowRankBias.Torch.Training;

/// <summary>The outcome of <see cref="Trainer.Fit"/>.</summary>
/// <param name="Steps">Optimizer steps done in total (over resumed runs).</param>
/// <param name="Epochs">Epochs completed in total.</param>
/// <param name="StoppedEarly">Whether <see cref="TrainerOptions.StopWhen"/> ended training.</param>
/// <param name="LastEvaluation">The last evaluation of this call, if any.</param>
/// <param name="WallTime">Seconds of training in total.</param>
public sealed record TrainingResult(long Steps, long Epochs, bool StoppedEarly, EvaluationResult? LastEvaluation, double WallTime);
