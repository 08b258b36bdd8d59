using LowRankBias.Torch.Optim;

namespace LowRankBias.GaLore;

/// <summary>
/// Hyper-parameters of <see cref="GaLoreAdamW"/>, named as in the official <c>galore_torch</c> parameter groups: AdamW's
/// (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0) plus the projection's <see cref="rank"/>,
/// <see cref="update_proj_gap"/> and <see cref="scale"/>. A group with <see cref="rank"/> 0 is plain AdamW (use it for
/// biases, norms and embeddings, as the GaLore paper does).
/// </summary>
public sealed record GaLoreOptions : OptimizerOptions
{
    /// <summary>Rank r of the gradient projection; 0 switches the projection off for the group. Default 128.</summary>
    public int rank { get; set; } = 128;

    /// <summary>Steps between recomputations of the projector from the gradient's SVD. Default 200.</summary>
    public int update_proj_gap { get; set; } = 200;

    /// <summary>Scale α of the projected-back update. Default 0.25.</summary>
    public double scale { get; set; } = 0.25;

    /// <summary>Decay rates of the moment estimates (kept in the projected space).</summary>
    public (double beta1, double beta2) betas { get; set; } = (0.9, 0.999);

    /// <summary>Added to the denominator for numerical stability.</summary>
    public double eps { get; set; } = 1e-8;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(rank, nameof(rank));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(update_proj_gap, nameof(update_proj_gap));
        if (!(scale > 0)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be > 0");
        if (!(betas.beta1 >= 0 && betas.beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(betas), betas, "beta1 must be in [0, 1)");
        if (!(betas.beta2 >= 0 && betas.beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(betas), betas, "beta2 must be in [0, 1)");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be >= 0");
    }
}
