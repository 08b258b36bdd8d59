using LowRankBias.Torch;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Lte;

/// <summary>Edits of an optimizer's per-parameter state through its state dict (the optimizer keeps its groups and options).</summary>
public static class OptimizerState
{
    /// <summary>Drops the state (moments and step count) of <paramref name="parameters"/>, as if they had never been updated.</summary>
    public static void Clear(Optimizer optimizer, IEnumerable<Tensor> parameters) => Edit(optimizer, parameters, (_, state) => state.Dispose());

    /// <summary>
    /// Zeroes the <paramref name="fraction"/> of entries of every state tensor of <paramref name="parameters"/> with the
    /// smallest magnitude (ReLoRA's magnitude pruning of the optimizer state); step counts stay.
    /// </summary>
    public static void Prune(Optimizer optimizer, IEnumerable<Tensor> parameters, double fraction)
    {
        if (!(fraction >= 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "must lie in [0, 1]");
        Edit(optimizer, parameters, (_, state) =>
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            foreach (Tensor moment in state.tensors.Values.Where(t => t.dtype.IsFloatingPoint() && t.numel() > 0))
            {
                long pruned = (long)Math.Round(fraction * moment.numel());
                if (pruned == 0) continue;
                (_, Tensor smallest) = moment.reshape(-1).abs().topk(pruned, largest: false, sorted: false);
                Tensor mask = torch.zeros([moment.numel()], ScalarType.Bool, moment.device)
                    .scatter(0, smallest, torch.ones([pruned], ScalarType.Bool, moment.device));
                moment.masked_fill_(mask.view(moment.shape), 0);
            }
        });
    }

    /// <summary>Zeroes head <paramref name="head"/>'s slice of every state tensor stacked like its parameter ([N, …]);
    /// step counts and the other heads' moments stay.</summary>
    internal static void ClearHead(Optimizer optimizer, IEnumerable<Tensor> parameters, int head) => Edit(optimizer, parameters, (parameter, state) =>
    {
        using var noGrad = torch.no_grad();
        foreach (Tensor moment in state.tensors.Values.Where(t => t.shape.SequenceEqual(parameter.shape)))
        {
            using Tensor slice = moment.select(0, head);
            slice.zero_();
        }
    });

    /// <summary>What a merge does to the LoRA factors' optimizer state under <paramref name="options"/>: clear, prune or nothing.</summary>
    internal static void AfterMerge(Optimizer optimizer, IEnumerable<Tensor> factors, LteOptions options)
    {
        if (options.ResetOptimizer) Clear(optimizer, factors);
        else if (options.PruneOptimizer > 0) Prune(optimizer, factors, options.PruneOptimizer);
    }

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
