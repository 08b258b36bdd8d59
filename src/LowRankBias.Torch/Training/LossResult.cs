namespace LowRankBias.Torch.Training;

/// <summary>What a <see cref="LossFunction"/> returns for one batch. Both tensors stay on the model's device: the
/// trainer sums them there and reads them back only when it logs.</summary>
/// <param name="Loss">The scalar loss, averaged over the batch's samples, to back-propagate.</param>
/// <param name="Correct">For classification, the number of correctly predicted samples in the batch (a scalar), or null.</param>
public readonly record struct LossResult(Tensor Loss, Tensor? Correct = null)
{
    /// <summary>A loss without an accuracy count.</summary>
    public static implicit operator LossResult(Tensor loss) => new(loss);
}
