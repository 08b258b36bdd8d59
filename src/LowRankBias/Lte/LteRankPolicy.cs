namespace LowRankBias.Lte;

/// <summary>
/// Rank per layer from the data (<see cref="LteOptions.RankPolicy"/>): at each merge, the effective rank exp(H) of the
/// update a layer's heads add, (1/N) Σₙ sBₙAₙ, is compared with the layer's current head rank r: below
/// <see cref="ShrinkBelow"/>·r the layer's heads halve their rank for the next cycle (not below <see cref="MinRank"/>),
/// above <see cref="GrowAbove"/>·r they double it (not above <see cref="MaxRank"/>). The factors are allocated at
/// <see cref="MaxRank"/> and a layer's unused components carry a zero coefficient, so they neither act nor learn; a
/// component switched on or off starts with cleared optimizer moments, and since B is zero after a reset merge the
/// model's function does not change. Heads start at <see cref="LteOptions.Rank"/>; s = α/r follows each layer's rank.
/// Needs <see cref="LteMergeMode.Reset"/>, heads on <c>Linear</c> layers only, and a single-device <see cref="Lte"/>.
/// </summary>
public sealed record LteRankPolicy
{
    /// <summary>The smallest head rank a layer may shrink to. Default 1.</summary>
    public int MinRank { get; init; } = 1;

    /// <summary>The largest head rank a layer may grow to (at most the layer's smaller dimension). Default 64.</summary>
    public int MaxRank { get; init; } = 64;

    /// <summary>Shrink when the update's effective rank is below this fraction of r. Default 0.5.</summary>
    public double ShrinkBelow { get; init; } = 0.5;

    /// <summary>Grow when the update's effective rank is above this multiple of r (it can reach N·r). Default 1.</summary>
    public double GrowAbove { get; init; } = 1;

    /// <summary>The rank a layer of rank <paramref name="rank"/> takes after a merge whose update has effective rank <paramref name="effectiveRank"/>.</summary>
    internal int Next(int rank, double effectiveRank) =>
        effectiveRank < ShrinkBelow * rank ? Math.Max(MinRank, rank / 2)
        : effectiveRank > GrowAbove * rank ? Math.Min(MaxRank, rank * 2)
        : rank;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting (as <c>RankPolicy.&lt;name&gt;</c>).</summary>
    internal void Validate(int rank)
    {
        const string prefix = nameof(LteOptions.RankPolicy) + ".";
        if (MinRank < 1) throw new ArgumentOutOfRangeException(prefix + nameof(MinRank), MinRank, "a head rank must be at least 1");
        if (MaxRank < MinRank)
            throw new ArgumentException($"{prefix}{nameof(MaxRank)} ({MaxRank}) is below {prefix}{nameof(MinRank)} ({MinRank})", prefix + nameof(MaxRank));
        if (rank < MinRank || rank > MaxRank)
            throw new ArgumentException($"the starting rank {rank} (LteOptions.Rank) lies outside [{prefix}{nameof(MinRank)}, {prefix}{nameof(MaxRank)}] = [{MinRank}, {MaxRank}]", prefix + nameof(MaxRank));
        if (!(ShrinkBelow >= 0 && double.IsFinite(ShrinkBelow)))
            throw new ArgumentOutOfRangeException(prefix + nameof(ShrinkBelow), ShrinkBelow, "the shrink threshold must be a finite fraction >= 0");
        if (!(GrowAbove > ShrinkBelow && double.IsFinite(GrowAbove)))
            throw new ArgumentOutOfRangeException(prefix + nameof(GrowAbove), GrowAbove, $"the grow threshold must be finite and above {prefix}{nameof(ShrinkBelow)} ({ShrinkBelow})");
    }
}
