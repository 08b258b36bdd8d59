namespace LowRankBias.Torch.Optim;

/// <summary>Hyper-parameters of <see cref="AdamW"/> (PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 1e-2).</summary>
public sealed record AdamWOptions : OptimizerOptions
{
    /// <summary>Creates the defaults.</summary>
    public AdamWOptions() => weight_decay = 1e-2;

    /// <summary>Decay rates of the first and second moment estimates.</summary>
    public (double beta1, double beta2) betas { get; set; } = (0.9, 0.999);

    /// <summary>Added to the denominator for numerical stability.</summary>
    public double eps { get; set; } = 1e-8;

    /// <summary>Use the running maximum of the second moment (AMSGrad).</summary>
    public bool amsgrad { get; set; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (!(betas.beta1 >= 0 && betas.beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(betas), betas, "beta1 must be in [0, 1)");
        if (!(betas.beta2 >= 0 && betas.beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(betas), betas, "beta2 must be in [0, 1)");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be >= 0");
    }
}
