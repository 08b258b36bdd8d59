namespace LowRankBias.Torch.Optim;

// Float32 master weights for float16/bfloat16 parameters.
public abstract partial class Optimizer
{
    private const string MasterKey = "master";

    /// <summary>
    /// Keeps a float32 master copy of every float16/bfloat16 parameter and steps that instead: the gradient is taken in
    /// float32, the optimizer state (moments, momentum) is float32, and after each step the parameter is set to its
    /// master rounded to its own dtype, so updates below the parameter's precision accumulate instead of being lost.
    /// A master is made from its parameter at first use and from then on holds the true weights; it lives in the
    /// optimizer state, so <see cref="state_dict"/> and checkpoints keep it. To change such weights from outside, load
    /// a state dict or make a new optimizer. Other parameters are stepped as usual.
    /// </summary>
    public bool MasterWeights { get; init; }

    /// <summary>
    /// The tensors the next <see cref="step"/> updates, one per parameter in group order (apex's
    /// <c>amp.master_params</c>): the parameter itself or, under <see cref="MasterWeights"/>, the float32 master of a
    /// low-precision parameter, whose gradient is then a float32 copy of the parameter's. Scale or clip their gradients
    /// in place to change the update, as <see cref="Amp.GradScaler.unscale_"/> and the trainer's clipping do. Call it
    /// after the step's last backward: a master's gradient is copied once, and dropped by <see cref="zero_grad"/> and
    /// <see cref="step"/>. The tensors belong to the model or the optimizer; do not dispose them.
    /// </summary>
    public IReadOnlyList<Tensor> master_params()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return _groups.SelectMany(g => g.@params).Select(StepTarget).ToArray();
    }

    private bool HasMaster(Tensor p) => MasterWeights && p.dtype is (ScalarType.Float16 or ScalarType.BFloat16);

    // The dtype of p's floating-point state.
    private ScalarType StateDtype(Tensor p) => HasMaster(p) ? ScalarType.Float32 : p.dtype;

    // What a step updates for p: p itself, or p's master (made from p once p has a gradient), given p's gradient in
    // float32 unless it holds one already.
    private Tensor StepTarget(Tensor p)
    {
        if (!HasMaster(p)) return p;
        Tensor? grad = p.grad;
        if (!_state.TryGetValue(p, out ParameterState? state) || !state.tensors.TryGetValue(MasterKey, out Tensor? master))
        {
            if (grad is null) return p;
            StateOf(p).tensors.Add(MasterKey, master = p.to(ScalarType.Float32, copy: true).DetachFromDisposeScope());
        }
        if (grad is not null && master.grad is null) master.grad = grad.to(ScalarType.Float32);
        return master;
    }

    // After an update of masters: round them into their parameters and drop the consumed gradient copies.
    private static void CopyMastersBack(List<Tensor> parameters, List<Tensor> updated)
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            if (ReferenceEquals(parameters[i], updated[i])) continue;
            parameters[i].copy_(updated[i]);
            updated[i].grad = null;
        }
    }

    private void ClearMasterGrads()
    {
        foreach (ParameterState s in _state.Values)
            if (s.tensors.TryGetValue(MasterKey, out Tensor? master)) master.grad = null;
    }

    // A saved master fits only a parameter of the same shape that this optimizer keeps a master for.
    private void CheckMasterFits(int index, ParameterState state, Tensor p)
    {
        if (!state.tensors.TryGetValue(MasterKey, out Tensor? master)) return;
        if (!HasMaster(p))
            throw new ArgumentException($"state dict holds a float32 master of parameter {index}, which this optimizer keeps none for " +
                $"(MasterWeights = {MasterWeights}, parameter dtype {p.dtype})", "state_dict");
        if (!master.shape.SequenceEqual(p.shape))
            throw new ArgumentException($"state dict holds a master of shape [{string.Join(", ", master.shape)}] for parameter {index} " +
                $"of shape [{string.Join(", ", p.shape)}]", "state_dict");
    }
}
