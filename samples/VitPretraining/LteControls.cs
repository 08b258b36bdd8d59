using System.CommandLine;
using LowRankBias.Lte;
using LowRankBias.Samples;

namespace VitPretraining;

/// <summary>
/// The command line of what LTE decides from its heads (issue 37): <c>--merge-policy fixed|adaptive</c> with T_min,
/// T_max and the thresholds, <c>--rank-policy fixed|adaptive</c> with the rank bounds and thresholds, and
/// <c>--reseed-above</c>. Applied to the <c>lte</c> methods and every grid cell.
/// </summary>
internal sealed class LteControls
{
    private readonly Option<string> _policy, _rankPolicy;
    private readonly Option<int> _min, _max, _rankMin, _rankMax;
    private readonly Option<double?> _cosine, _budget, _reseed;
    private readonly Option<double> _shrink, _grow;

    public LteControls(ProgramCommand cli)
    {
        _policy = cli.Choice("--merge-policy", "fixed", "when LTE merges: every T steps, or when the heads' statistics call for it (LteOptions.AdaptiveMerge)", "fixed", "adaptive");
        _min = cli.Add("--merge-min", 5, "adaptive: T_min, no merge sooner after the last one");
        _max = cli.Add("--merge-max", 50, "adaptive: T_max, a merge at the latest this many steps after the last one");
        _cosine = cli.Optional<double?>("--merge-cosine-below", "adaptive: merge when the heads' mean pairwise cosine of s·BₙAₙ falls below this", "C");
        _budget = cli.Optional<double?>("--merge-norm-budget", "adaptive: merge when ‖(1/N) Σ s·BₙAₙ‖ / ‖W‖ reaches this", "B");
        _rankPolicy = cli.Choice("--rank-policy", "fixed", "each layer's head rank: the preset's, or set at merges from the effective rank of the layer's update (LteOptions.RankPolicy)", "fixed", "adaptive");
        _rankMin = cli.Add("--rank-min", 1, "adaptive rank: the smallest head rank");
        _rankMax = cli.Add("--rank-max", 64, "adaptive rank: the largest head rank (the allocation; at most a layer's smaller side)");
        _shrink = cli.Add("--rank-shrink-below", 0.5, "adaptive rank: halve r when the update's effective rank is below this fraction of r");
        _grow = cli.Add("--rank-grow-above", 1.0, "adaptive rank: double r when the update's effective rank is above this multiple of r");
        _reseed = cli.Optional<double?>("--reseed-above", "re-seed a head whose update's cosine with an earlier head's exceeds this at a merge (LteOptions.ReseedAbove)", "C");
    }

    /// <summary>The options' edit of an LTE configuration, checked now (an <see cref="ArgumentException"/> naming the setting).</summary>
    public Func<LteOptions, LteOptions> Read(ParseResult parsed)
    {
        LteAdaptiveMerge? adaptive = parsed.GetValue(_policy) == "adaptive"
            ? new LteAdaptiveMerge { MinEvery = parsed.GetValue(_min), MaxEvery = parsed.GetValue(_max), CosineBelow = parsed.GetValue(_cosine), NormBudget = parsed.GetValue(_budget) }
            : null;
        if (adaptive is null && (parsed.GetValue(_cosine) is not null || parsed.GetValue(_budget) is not null))
            throw new ArgumentException("--merge-cosine-below and --merge-norm-budget need --merge-policy adaptive");
        LteRankPolicy? ranks = parsed.GetValue(_rankPolicy) == "adaptive"
            ? new LteRankPolicy { MinRank = parsed.GetValue(_rankMin), MaxRank = parsed.GetValue(_rankMax), ShrinkBelow = parsed.GetValue(_shrink), GrowAbove = parsed.GetValue(_grow) }
            : null;
        double? reseed = parsed.GetValue(_reseed);
        Func<LteOptions, LteOptions> edit = o => o with { AdaptiveMerge = adaptive, ReseedAbove = reseed, RankPolicy = ranks };
        // Checked now, at a rank inside the bounds; a preset rank outside them is refused when its run starts.
        edit(new LteOptions { Rank = ranks?.MinRank ?? 8 }).Validate();
        return edit;
    }

    /// <summary>How a grid cell merges, for its table row and CSV field (no commas): the period T, or the controller's
    /// settings; then the rank policy's bounds and the re-seeding threshold, where set.</summary>
    public static string Describe(LteOptions options)
    {
        string merge = options.AdaptiveMerge is { } a
            ? FormattableString.Invariant($"adaptive {a.MinEvery}-{a.MaxEvery}{(a.CosineBelow is { } c ? $" cos<{c}" : "")}{(a.NormBudget is { } b ? $" norm>={b}" : "")}")
            : $"{options.MergeEvery}";
        string rank = options.RankPolicy is { } r ? FormattableString.Invariant($" rank {r.MinRank}-{r.MaxRank}") : "";
        string reseed = options.ReseedAbove is { } t ? FormattableString.Invariant($" reseed>{t}") : "";
        return merge + rank + reseed;
    }
}
