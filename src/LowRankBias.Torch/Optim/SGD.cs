namespace LowRankBias.Torch.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and (L2) weight decay, as in
/// PyTorch: d = g + wd·p; b = μ·b + (1 − τ)·d (b = d on the first step); d = d + μ·b (Nesterov) or b; p −= lr·d.
/// </summary>
public sealed class SGD : Optimizer
{
    /// <summary>One group holding <paramref name="parameters"/>.</summary>
    public SGD(IEnumerable<Tensor> parameters, double lr = 1e-3, double momentum = 0, double dampening = 0,
        double weight_decay = 0, bool nesterov = false)
        : this([new ParamGroup(parameters, new SGDOptions { lr = lr, momentum = momentum, dampening = dampening, weight_decay = weight_decay, nesterov = nesterov })])
    {
    }

    /// <summary>Several groups, each carrying <see cref="SGDOptions"/>.</summary>
    public SGD(IEnumerable<ParamGroup> groups) : base(groups)
    {
    }

    /// <inheritdoc />
    protected override Type OptionsType => typeof(SGDOptions);

    private protected override IReadOnlyCollection<string> ParameterShapedState => ["momentum_buffer"];

    /// <inheritdoc />
    protected override void Update(OptimizerOptions options, Tensor[] parameters, Tensor[] grads, ParameterState[] states)
    {
        var o = (SGDOptions)options;
        Tensor[] direction = o.weight_decay != 0 ? Foreach.add(grads, parameters, o.weight_decay) : grads;
        if (o.momentum != 0)
        {
            Tensor[] buffers = MomentumBuffers(states, direction, o);
            direction = o.nesterov ? Foreach.add(direction, buffers, o.momentum) : buffers;
        }
        Foreach.add_(parameters, direction, -o.lr);
    }

    // Updates the existing momentum buffers and starts missing ones as a copy of the direction.
    private static Tensor[] MomentumBuffers(ParameterState[] states, Tensor[] direction, SGDOptions o)
    {
        var buffers = new Tensor[states.Length];
        var running = new List<int>();
        for (int i = 0; i < states.Length; i++)
        {
            if (states[i].tensors.TryGetValue("momentum_buffer", out Tensor? buffer))
            {
                buffers[i] = buffer;
                running.Add(i);
            }
            else
            {
                buffers[i] = direction[i].clone().DetachFromDisposeScope();
                states[i].tensors.Add("momentum_buffer", buffers[i]);
            }
        }
        if (running.Count > 0)
        {
            Tensor[] old = running.Select(i => buffers[i]).ToArray();
            Foreach.mul_(old, o.momentum);
            Foreach.add_(old, running.Select(i => direction[i]).ToArray(), 1 - o.dampening);
        }
        return buffers;
    }
}
