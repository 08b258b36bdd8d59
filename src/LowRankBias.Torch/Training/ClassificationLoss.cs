using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Training;

/// <summary>Ready-made loss functions for classification batches laid out as (inputs, class indices).</summary>
public static class ClassificationLoss
{
    /// <summary>Cross-entropy of <c>model(batch[0])</c>'s logits against the class indices <c>batch[1]</c>, with the
    /// number of correct arg-max predictions.</summary>
    public static LossFunction CrossEntropy(double label_smoothing = 0) => (model, batch) =>
    {
        if (batch.Length < 2)
            throw new ArgumentException($"a classification batch needs (inputs, labels), this one has {batch.Length} field(s)", nameof(batch));
        Tensor logits = model.call(batch[0]);
        return new LossResult(torch.nn.functional.cross_entropy(logits, batch[1], label_smoothing: label_smoothing), Correct(logits, batch[1]));
    };

    /// <summary>How many rows of <paramref name="logits"/> [N, C] have their maximum at the class in
    /// <paramref name="labels"/> [N] (an int64 scalar on their device).</summary>
    public static Tensor Correct(Tensor logits, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return (logits.argmax(-1) == labels).sum().MoveToOuterDisposeScope();
    }
}
