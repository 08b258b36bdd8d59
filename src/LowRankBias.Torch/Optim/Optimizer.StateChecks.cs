namespace LowRankBias.Torch.Optim;

// What a saved per-parameter state must be to load: checked before anything changes, so that a damaged state dict
// cannot overwrite the trained state and then fail (or train on garbage) at the next step.
public abstract partial class Optimizer
{
    /// <summary>Names of the state tensors that are floating-point and shaped like their parameter (moments,
    /// momentum buffers); other names are only checked for finite values.</summary>
    private protected virtual IReadOnlyCollection<string> ParameterShapedState => [];

    private void CheckParameterState(int index, ParameterState state, Tensor p)
    {
        if (state.step < 0)
            throw new ArgumentException($"state dict: parameter {index} has step {state.step}, a count that cannot be negative", "state_dict");
        foreach ((string name, Tensor t) in state.tensors)
        {
            if (ParameterShapedState.Contains(name))
            {
                if (!t.dtype.IsFloatingPoint())
                    throw new ArgumentException($"state dict: parameter {index}: state '{name}' has dtype {t.dtype}, a floating-point one is needed", "state_dict");
                if (!t.shape.AsSpan().SequenceEqual(p.shape))
                    throw new ArgumentException($"state dict: parameter {index}: state '{name}' has shape {TensorValues.Shape(t.shape)}, " +
                        $"the parameter has {TensorValues.Shape(p.shape)}", "state_dict");
            }
            if (!NonFiniteValues.AllFinite(t))
                throw new ArgumentException($"state dict: parameter {index}: state '{name}' holds NaN or infinite values", "state_dict");
        }
        CheckMasterFits(index, state, p);
    }
}
