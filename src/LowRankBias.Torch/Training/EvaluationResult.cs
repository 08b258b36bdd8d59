namespace LowRankBias.Torch.Training;

/// <summary>The outcome of <see cref="Trainer.Evaluate"/>.</summary>
/// <param name="Loss">Mean loss per sample.</param>
/// <param name="Accuracy">Fraction of correct predictions, when the loss function counts them.</param>
/// <param name="Samples">Samples evaluated.</param>
/// <param name="SamplesPerSecond">Evaluation throughput.</param>
public sealed record EvaluationResult(double Loss, double? Accuracy, long Samples, double SamplesPerSecond);
