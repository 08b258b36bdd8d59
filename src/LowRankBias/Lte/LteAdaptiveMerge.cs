namespace LowRankBias.Lte;

/// <summary>
/// A merge controller for LTE (<see cref="LteOptions.AdaptiveMerge"/>, in place of the fixed period
/// <see cref="LteOptions.MergeEvery"/>): after each step, once at least <see cref="MinEvery"/> steps have passed since
/// the last merge, the heads merge when their updates ΔWₙ = sₙBₙAₙ (all adapted layers together) have drifted apart —
/// the mean pairwise cosine falls below <see cref="CosineBelow"/> — or the update the merge would add has grown large —
/// ‖(1/N) Σₙ ΔWₙ‖_F / ‖W‖_F reaches <see cref="NormBudget"/>; they always merge after <see cref="MaxEvery"/> steps.
/// The statistics are computed (in float64, from the factors, never the full products) only between the bounds and
/// only for the criteria that are set, so with neither set and <see cref="MinEvery"/> = <see cref="MaxEvery"/> = T the
/// run is the fixed-period one, bit for bit. In a <see cref="DistributedLte"/> run every rank computes them from the
/// same all-gathered factors, so all ranks take the same decision — at a price: every watched step all-gathers every
/// head's factors, about what a merge sends, so a distributed controller sends more than a fixed period unless
/// <see cref="MinEvery"/> is close to the merge period it replaces (4 ranks of the DistributedLte sample: 8× the bytes
/// of T = 10 with 18 instead of 31 merges; docs/results.md).
/// </summary>
public sealed record LteAdaptiveMerge
{
    /// <summary>T_min: no merge sooner than this many steps after the last one. Default 5.</summary>
    public int MinEvery { get; init; } = 5;

    /// <summary>T_max: a merge at the latest this many steps after the last one. Default 50.</summary>
    public int MaxEvery { get; init; } = 50;

    /// <summary>Merge when the mean pairwise cosine of the heads' updates is below this value, in [−1, 1]; a head without
    /// an update yet (B = 0) makes the mean undefined and never triggers. Null (default): not watched.</summary>
    public double? CosineBelow { get; init; }

    /// <summary>Merge when ‖(1/N) Σₙ sₙBₙAₙ‖_F / ‖W‖_F over the adapted layers reaches this positive, finite value.
    /// Null (default): not watched.</summary>
    public double? NormBudget { get; init; }

    /// <summary>The fixed period T as a controller: merges exactly every T steps.</summary>
    public static LteAdaptiveMerge Fixed(int mergeEvery) => new() { MinEvery = mergeEvery, MaxEvery = mergeEvery };

    /// <summary>True when a statistic of the heads is watched at all.</summary>
    internal bool Watches => CosineBelow is not null || NormBudget is not null;

    /// <summary>Whether <paramref name="statistics"/> call for a merge.</summary>
    internal bool Triggers(LteHeadStatistics statistics) =>
        statistics.MeanPairwiseCosine < CosineBelow || statistics.RelativeUpdateNorm >= NormBudget;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting (as <c>AdaptiveMerge.&lt;name&gt;</c>).</summary>
    internal void Validate()
    {
        const string prefix = nameof(LteOptions.AdaptiveMerge) + ".";
        if (MinEvery < 1) throw new ArgumentOutOfRangeException(prefix + nameof(MinEvery), MinEvery, "T_min must be at least 1 step");
        if (MaxEvery < 1) throw new ArgumentOutOfRangeException(prefix + nameof(MaxEvery), MaxEvery, "T_max must be at least 1 step");
        if (MinEvery > MaxEvery)
            throw new ArgumentException($"{prefix}{nameof(MinEvery)} (T_min = {MinEvery}) exceeds {prefix}{nameof(MaxEvery)} (T_max = {MaxEvery})", prefix + nameof(MinEvery));
        if (CosineBelow is { } cosine && !(cosine >= -1 && cosine <= 1))
            throw new ArgumentOutOfRangeException(prefix + nameof(CosineBelow), cosine, "a cosine threshold must lie in [-1, 1]");
        if (NormBudget is { } budget && !(budget > 0 && double.IsFinite(budget)))
            throw new ArgumentOutOfRangeException(prefix + nameof(NormBudget), budget, "the relative norm budget must be positive and finite");
    }
}
