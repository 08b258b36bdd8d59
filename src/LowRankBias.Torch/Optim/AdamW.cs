namespace LowRankBias.Torch.Optim;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov &amp; Hutter), as in PyTorch: p *= 1 − lr·wd; m = β₁m + (1−β₁)g;
/// v = β₂v + (1−β₂)g²; p −= (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε), with v replaced by its running maximum under
/// AMSGrad. Each group is updated with a handful of multi-tensor kernels.
/// </summary>
public sealed class AdamW : Optimizer
{
    /// <summary>One group holding <paramref name="parameters"/> (betas default to (0.9, 0.999)).</summary>
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, (double beta1, double beta2)? betas = null, double eps = 1e-8,
        double weight_decay = 1e-2, bool amsgrad = false)
        : this([new ParamGroup(parameters, new AdamWOptions { lr = lr, betas = betas ?? (0.9, 0.999), eps = eps, weight_decay = weight_decay, amsgrad = amsgrad })])
    {
    }

    /// <summary>Several groups, each carrying <see cref="AdamWOptions"/>.</summary>
    public AdamW(IEnumerable<ParamGroup> groups) : base(groups)
    {
    }

    /// <inheritdoc />
    protected override Type OptionsType => typeof(AdamWOptions);

    private protected override IReadOnlyCollection<string> ParameterShapedState => ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];

    /// <inheritdoc />
    protected override void Update(OptimizerOptions options, Tensor[] parameters, Tensor[] grads, ParameterState[] states)
    {
        var o = (AdamWOptions)options;
        for (int i = 0; i < states.Length; i++) Prepare(states[i], parameters[i], o.amsgrad);
        // Bias corrections depend on the step count, so parameters that joined later are updated separately.
        foreach (IGrouping<long, int> same in Enumerable.Range(0, parameters.Length).GroupBy(i => states[i].step))
        {
            int[] at = same.ToArray();
            Tensor[] Pick(Tensor[] all) => at.Select(i => all[i]).ToArray();
            Tensor[] State(string name) => at.Select(i => states[i].tensors[name]).ToArray();
            Step(o, same.Key, Pick(parameters), Pick(grads), State("exp_avg"), State("exp_avg_sq"),
                o.amsgrad ? State("max_exp_avg_sq") : null);
        }
    }

    private static void Step(AdamWOptions o, long t, Tensor[] p, Tensor[] g, Tensor[] m, Tensor[] v, Tensor[]? vMax)
    {
        (double beta1, double beta2) = o.betas;
        if (o.weight_decay != 0) Foreach.mul_(p, 1 - o.lr * o.weight_decay);
        Foreach.mul_(m, beta1);
        Foreach.add_(m, g, 1 - beta1);
        Foreach.mul_(v, beta2);
        Foreach.addcmul_(v, g, g, 1 - beta2);
        if (vMax is not null) Foreach.maximum_(vMax, v);

        double biasCorrection1 = 1 - Math.Pow(beta1, t);
        double biasCorrection2 = 1 - Math.Pow(beta2, t);
        Tensor[] denominator = Foreach.sqrt(vMax ?? v);
        Foreach.div_(denominator, Math.Sqrt(biasCorrection2));
        Foreach.add_(denominator, o.eps);
        Foreach.addcdiv_(p, m, denominator, -o.lr / biasCorrection1);
    }

    // Counts the step and creates missing moment buffers as zeros like the parameter (the AMSGrad maximum too when
    // AMSGrad is switched on later).
    private static void Prepare(ParameterState state, Tensor parameter, bool amsgrad)
    {
        state.step++;
        string[] names = amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"];
        foreach (string name in names)
            if (!state.tensors.ContainsKey(name))
                state.tensors.Add(name, torch.zeros_like(parameter).DetachFromDisposeScope());
    }
}
