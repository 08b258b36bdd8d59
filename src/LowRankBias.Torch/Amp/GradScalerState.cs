namespace LowRankBias.Torch.Amp;

/// <summary>What a <see cref="GradScaler"/> needs to resume (PyTorch's GradScaler state_dict).</summary>
public sealed record GradScalerState
{
    /// <summary>The current loss scale.</summary>
    public double scale { get; init; }

    /// <summary>Factor the scale grows by after <see cref="growth_interval"/> clean steps.</summary>
    public double growth_factor { get; init; }

    /// <summary>Factor the scale shrinks by after a step with inf/NaN gradients.</summary>
    public double backoff_factor { get; init; }

    /// <summary>Clean steps between growths.</summary>
    public long growth_interval { get; init; }

    /// <summary>Clean steps since the last growth or backoff.</summary>
    public long growth_tracker { get; init; }
}
