namespace LowRankBias.Torch.Optim;

/// <summary>
/// A snapshot of an optimizer (PyTorch's optimizer state_dict): per-group hyper-parameters and parameter indices
/// (numbered across groups in order), and per-parameter state by index. Owns copies of the state tensors.
/// </summary>
public sealed class OptimizerStateDict : IDisposable
{
    /// <summary>Each group's options and the indices of its parameters.</summary>
    public List<(OptimizerOptions options, int[] @params)> param_groups { get; } = [];

    /// <summary>State of the parameters that have any, by parameter index.</summary>
    public SortedDictionary<int, ParameterState> state { get; } = [];

    /// <summary>Frees the state tensors.</summary>
    public void Dispose()
    {
        foreach (ParameterState s in state.Values) s.Dispose();
        state.Clear();
    }
}
