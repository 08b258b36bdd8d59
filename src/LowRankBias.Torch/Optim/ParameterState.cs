namespace LowRankBias.Torch.Optim;

/// <summary>An optimizer's state for one parameter: its step count and named tensors (e.g. exp_avg). Owns the
/// tensors.</summary>
public sealed class ParameterState : IDisposable
{
    /// <summary>Updates applied to this parameter so far.</summary>
    public long step { get; set; }

    /// <summary>The state tensors by name.</summary>
    public OrderedDictionary<string, Tensor> tensors { get; } = new();

    /// <summary>A deep copy whose tensors are on <paramref name="device"/>, floating ones in
    /// <paramref name="floating"/>, and belong to no dispose scope.</summary>
    internal ParameterState CopyFor(Device device, ScalarType floating)
    {
        var copy = new ParameterState { step = step };
        foreach ((string name, Tensor t) in tensors)
        {
            ScalarType dtype = t.dtype.IsFloatingPoint() ? floating : t.dtype;
            copy.tensors.Add(name, t.to(device, dtype, copy: true).DetachFromDisposeScope());
        }
        return copy;
    }

    /// <summary>Frees the state tensors.</summary>
    public void Dispose()
    {
        foreach (Tensor t in tensors.Values) t.Dispose();
        tensors.Clear();
    }
}
