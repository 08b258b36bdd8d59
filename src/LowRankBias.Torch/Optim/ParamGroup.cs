using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Optim;

/// <summary>Parameters that share hyper-parameters (PyTorch's param group). An optimizer keeps its own copy of the
/// options, so one options object can seed several groups.</summary>
public sealed class ParamGroup
{
    /// <summary>A group of <paramref name="parameters"/> with <paramref name="options"/>.</summary>
    public ParamGroup(IEnumerable<Tensor> parameters, OptimizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(options);
        @params = parameters.ToArray();
        this.options = options;
    }

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<Tensor> @params { get; }

    /// <summary>The group's hyper-parameters.</summary>
    public OptimizerOptions options { get; internal set; }

    /// <summary>The group's learning rate (what schedulers set).</summary>
    public double lr
    {
        get => options.lr;
        set => options.lr = value;
    }

    /// <summary>
    /// The usual two groups for weight decay: one with <paramref name="options"/>, one with the same options but
    /// weight_decay = 0 holding every parameter of a module matching <paramref name="no_decay_module"/> (e.g.
    /// <c>m =&gt; m is Embedding</c>) and, with <paramref name="no_decay_1d"/>, every parameter with fewer than 2
    /// dimensions (biases, norm scales). Empty groups are left out.
    /// </summary>
    public static ParamGroup[] WeightDecayGroups(Module model, OptimizerOptions options, Func<Module, bool>? no_decay_module = null,
        bool no_decay_1d = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var decay = new List<Tensor>();
        var noDecay = new List<Tensor>();
        foreach (Module module in model.modules())
        {
            bool exempt = no_decay_module?.Invoke(module) ?? false;
            foreach (Tensor p in module.parameters(recurse: false))
                if (seen.Add(p)) (exempt || (no_decay_1d && p.dim() < 2) ? noDecay : decay).Add(p);
        }
        var groups = new List<ParamGroup>();
        if (decay.Count > 0) groups.Add(new ParamGroup(decay, options));
        if (noDecay.Count > 0) groups.Add(new ParamGroup(noDecay, options with { weight_decay = 0 }));
        return groups.ToArray();
    }
}
