namespace LowRankBias.Torch.Optim;

/// <summary>An optimizer step found NaN or ±∞ in a gradient it was about to apply (see
/// <see cref="Optimizer.error_if_nonfinite"/>); it updated no parameter and no moment or momentum buffer.</summary>
public sealed class NonFiniteGradientException(string message, int parameter, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The first parameter whose gradient is not finite, as an index over all groups' parameters in order (the
    /// numbering of <see cref="Optimizer.state_dict"/>).</summary>
    public int Parameter { get; } = parameter;
}
