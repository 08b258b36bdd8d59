namespace LowRankBias.Torch.Optim;

/// <summary>
/// Hyper-parameters of one parameter group. Each optimizer has its own record type; derive a variant for one
/// group with <c>with</c>: <c>defaults with { weight_decay = 0 }</c>. Schedulers change <see cref="lr"/> in place.
/// </summary>
public abstract record OptimizerOptions
{
    /// <summary>Learning rate.</summary>
    public double lr { get; set; } = 1e-3;

    /// <summary>Weight-decay coefficient (its exact meaning depends on the optimizer).</summary>
    public double weight_decay { get; set; }

    /// <summary>Throws a clear exception when a value is out of range.</summary>
    public virtual void Validate()
    {
        if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "learning rate must be >= 0");
        if (!(weight_decay >= 0)) throw new ArgumentOutOfRangeException(nameof(weight_decay), weight_decay, "weight decay must be >= 0");
    }
}
