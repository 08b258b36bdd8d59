namespace LowRankBias.Lte;

/// <summary>
/// What the LTE merge controller and head resets read of the heads after step <paramref name="Iteration"/>: the mean
/// pairwise cosine of the heads' updates ΔWₙ = sₙBₙAₙ (every adapted layer's vectorised update concatenated; NaN while
/// a head has no update or with one head) and the relative norm ‖(1/N) Σₙ ΔWₙ‖_F / ‖W‖_F of the update a merge would add.
/// </summary>
public sealed record LteHeadStatistics(long Iteration, double MeanPairwiseCosine, double RelativeUpdateNorm);
