namespace LowRankBias.Torch.Optim;

/// <summary>
/// Base of the optimizers (PyTorch's <c>torch.optim.Optimizer</c>): parameter groups with their own
/// hyper-parameters, per-parameter state owned by the optimizer, and exact save/restore. The parameters
/// themselves belong to their module. Dispose the optimizer to free its state. With <see cref="MasterWeights"/>,
/// float16/bfloat16 parameters are stepped through float32 master copies.
/// </summary>
public abstract partial class Optimizer : IDisposable
{
    private readonly List<ParamGroup> _groups = [];
    private readonly Dictionary<Tensor, ParameterState> _state = new(ReferenceEqualityComparer.Instance);

    /// <summary>Adopts <paramref name="groups"/> (see <see cref="add_param_group"/>).</summary>
    protected Optimizer(IEnumerable<ParamGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        foreach (ParamGroup group in groups) add_param_group(group);
        if (_groups.All(g => g.@params.Count == 0))
            throw new ArgumentException($"{GetType().Name} got an empty parameter list", nameof(groups));
    }

    /// <summary>The options record this optimizer's groups must carry.</summary>
    protected abstract Type OptionsType { get; }

    /// <summary>The live parameter groups; changing a group's options (e.g. <c>lr</c>) affects the next step.</summary>
    public IReadOnlyList<ParamGroup> param_groups => _groups;

    /// <summary>Adds a group; the optimizer keeps its own copy of the group's options. Parameters must be
    /// floating-point leaf tensors and may belong to one group only.</summary>
    public void add_param_group(ParamGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (!OptionsType.IsInstanceOfType(group.options))
            throw new ArgumentException($"{GetType().Name} needs {OptionsType.Name} for its parameter groups, got {group.options.GetType().Name}", nameof(group));
        group.options.Validate();
        var known = new HashSet<Tensor>(_groups.SelectMany(g => g.@params), ReferenceEqualityComparer.Instance);
        for (int i = 0; i < group.@params.Count; i++)
        {
            Tensor p = group.@params[i];
            if (!p.is_leaf) throw new ArgumentException($"parameter {i} of the group is not a leaf tensor: an optimizer can only update leaves", nameof(group));
            if (!p.dtype.IsFloatingPoint()) throw new ArgumentException($"parameter {i} of the group has dtype {p.dtype}: only floating-point tensors can be optimized", nameof(group));
            if (!known.Add(p)) throw new ArgumentException($"parameter {i} of the group appears twice or is already in another group", nameof(group));
        }
        _groups.Add(new ParamGroup(group.@params, group.options with { }));
    }

    /// <summary>
    /// Before each <see cref="step"/>, check every gradient it is about to apply for NaN or ±∞ and throw a
    /// <see cref="NonFiniteGradientException"/> instead of writing them into the weights (default true; named after
    /// <c>clip_grad_norm_</c>'s flag). The check is one fused norm over all gradients and one read on the host per
    /// step; set false for PyTorch's behaviour (no check, no synchronisation), e.g. when a <see cref="Amp.GradScaler"/>
    /// already skips such steps or a CUDA loop must not wait.
    /// </summary>
    public bool error_if_nonfinite { get; set; } = true;

    /// <summary>Applies one update to every parameter that has a gradient. Every group's options, and with
    /// <see cref="error_if_nonfinite"/> every gradient, are checked before any parameter changes.</summary>
    public void step()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var work = new List<(ParamGroup group, List<Tensor> parameters, List<Tensor> targets, List<Tensor> grads)>();
        foreach (ParamGroup group in _groups)
        {
            group.options.Validate();
            var entry = (group, parameters: new List<Tensor>(), targets: new List<Tensor>(), grads: new List<Tensor>());
            foreach (Tensor p in group.@params)
            {
                Tensor target = StepTarget(p);
                if (target.grad is not { } g) continue;
                entry.parameters.Add(p);
                entry.targets.Add(target);
                entry.grads.Add(g);
            }
            if (entry.targets.Count > 0) work.Add(entry);
        }
        if (error_if_nonfinite) CheckFinite(work.SelectMany(w => w.parameters.Zip(w.grads)).ToList());
        foreach ((ParamGroup group, List<Tensor> parameters, List<Tensor> targets, List<Tensor> grads) in work)
        {
            Update(group.options, targets.ToArray(), grads.ToArray(), parameters.Select(StateOf).ToArray());
            CopyMastersBack(parameters, targets);
        }
    }

    /// <summary>
    /// Updates <paramref name="parameters"/> in place by <paramref name="grads"/> (same order) with the group's
    /// <paramref name="options"/>, keeping per-parameter state (e.g. moments) in <paramref name="states"/>. Under
    /// <see cref="MasterWeights"/>, low-precision parameters arrive as their float32 masters, with float32 gradients.
    /// Runs without autograd inside a dispose scope; the lists are not empty.
    /// </summary>
    protected abstract void Update(OptimizerOptions options, Tensor[] parameters, Tensor[] grads, ParameterState[] states);

    /// <summary>Clears the gradients of every parameter (or zeroes them in place when <paramref name="set_to_none"/> is
    /// false) and drops the masters' gradient copies.</summary>
    public void zero_grad(bool set_to_none = true)
    {
        Foreach.zero_grad(_groups.SelectMany(g => g.@params), set_to_none);
        ClearMasterGrads();
    }

    // The state of a parameter, created empty on first use.
    private ParameterState StateOf(Tensor parameter)
    {
        if (!_state.TryGetValue(parameter, out ParameterState? s)) _state.Add(parameter, s = new ParameterState());
        return s;
    }

    /// <summary>A copy of the hyper-parameters and of every parameter's state, owned by the caller.</summary>
    public OptimizerStateDict state_dict()
    {
        var result = new OptimizerStateDict();
        int index = 0;
        foreach (ParamGroup group in _groups)
        {
            int[] indices = Enumerable.Range(index, group.@params.Count).ToArray();
            result.param_groups.Add((group.options with { }, indices));
            foreach (Tensor p in group.@params)
            {
                if (_state.TryGetValue(p, out ParameterState? s)) result.state.Add(index, s.CopyFor(p.device, StateDtype(p)));
                index++;
            }
        }
        return result;
    }

    /// <summary>
    /// Restores hyper-parameters and state saved by <see cref="state_dict"/> from an optimizer with the same group
    /// layout. State tensors are copied (to each parameter's device and dtype), so the dict stays the caller's. All of it
    /// is checked first (moments and momentum shaped like their parameter and floating-point, finite values, step
    /// counts >= 0), so a state dict that does not fit changes nothing.
    /// </summary>
    public void load_state_dict(OptimizerStateDict state_dict)
    {
        List<Tensor> all = CheckStateDict(state_dict);
        for (int g = 0; g < _groups.Count; g++) _groups[g].options = state_dict.param_groups[g].options with { };
        DisposeState();
        foreach ((int index, ParameterState s) in state_dict.state) _state.Add(all[index], s.CopyFor(all[index].device, StateDtype(all[index])));
    }

    /// <summary>Checks <paramref name="state_dict"/> as <see cref="load_state_dict"/> does, changing nothing; returns
    /// the parameters in state-dict index order.</summary>
    internal List<Tensor> CheckStateDict(OptimizerStateDict state_dict)
    {
        ArgumentNullException.ThrowIfNull(state_dict);
        if (state_dict.param_groups.Count != _groups.Count)
            throw new ArgumentException($"state dict has {state_dict.param_groups.Count} parameter groups, the optimizer has {_groups.Count}", nameof(state_dict));
        var all = new List<Tensor>();
        for (int g = 0; g < _groups.Count; g++)
        {
            (OptimizerOptions options, int[] indices) = state_dict.param_groups[g];
            if (indices.Length != _groups[g].@params.Count)
                throw new ArgumentException($"group {g}: state dict has {indices.Length} parameters, the optimizer has {_groups[g].@params.Count}", nameof(state_dict));
            if (!OptionsType.IsInstanceOfType(options))
                throw new ArgumentException($"group {g}: state dict holds {options.GetType().Name}, {GetType().Name} needs {OptionsType.Name}", nameof(state_dict));
            options.Validate();
            all.AddRange(_groups[g].@params);
        }
        foreach ((int index, ParameterState s) in state_dict.state)
        {
            if (index < 0 || index >= all.Count)
                throw new ArgumentException($"state dict has state for parameter {index}, the optimizer has {all.Count} parameters", nameof(state_dict));
            CheckParameterState(index, s, all[index]);
        }
        return all;
    }

    /// <summary>Frees the optimizer state.</summary>
    public void Dispose()
    {
        DisposeState();
        GC.SuppressFinalize(this);
    }

    private void DisposeState()
    {
        foreach (ParameterState s in _state.Values) s.Dispose();
        _state.Clear();
    }
}
