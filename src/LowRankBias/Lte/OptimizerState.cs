using LowRankBias.Torch;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Lte;

/// <summary>Edits of an optimizer's per-parameter state through its state dict (the optimizer keeps its groups and options).</summary>
public static class OptimizerState
{
    /// <summary>Drops the state (moments and step count) of <paramref name="parameters"/>, as if they had never been updated.</summary>
    public static void Clear(Optimizer optimizer, IEnumerable<Tensor> parameters) => Edit(optimizer, parameters, (_, state) => state.Dispose());

    /// <summary>
    /// Calls <paramref name="edit"/>(parameter, state) on the state of every listed parameter that has one, in a copy
    /// of the optimizer's state dict, then loads the copy back; a state left without tensors is dropped.
    /// </summary>
    public static void Edit(Optimizer optimizer, IEnumerable<Tensor> parameters, Action<Tensor, ParameterState> edit)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(edit);
        var chosen = new HashSet<Tensor>(parameters, ReferenceEqualityComparer.Instance);
        Tensor[] all = optimizer.param_groups.SelectMany(g => g.@params).ToArray();
        using OptimizerStateDict dict = optimizer.state_dict();
        foreach (int index in dict.state.Keys.ToArray())
        {
            if (!chosen.Contains(all[index])) continue;
            ParameterState state = dict.state[index];
            edit(all[index], state);
            if (state.tensors.Count == 0) dict.state.Remove(index);
        }
        optimizer.load_state_dict(dict);
    }
}
