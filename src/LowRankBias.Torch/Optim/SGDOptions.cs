namespace LowRankBias.Torch.Optim;

/// <summary>Hyper-parameters of <see cref="SGD"/>.</summary>
public sealed record SGDOptions : OptimizerOptions
{
    /// <summary>Momentum factor (0: plain SGD).</summary>
    public double momentum { get; set; }

    /// <summary>Fraction of the gradient withheld from the momentum buffer.</summary>
    public double dampening { get; set; }

    /// <summary>Nesterov momentum (needs momentum &gt; 0 and dampening = 0).</summary>
    public bool nesterov { get; set; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (!(momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be >= 0");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"Nesterov momentum needs momentum > 0 and dampening = 0 (got momentum = {momentum}, dampening = {dampening})");
    }
}
