using System.CommandLine;
using LowRankBias.Lte;
using LowRankBias.Samples;

namespace VitPretraining;

/// <summary>
/// The command line of LTE's merge controller and head resets (issue 37): <c>--merge-policy fixed|adaptive</c> with
/// T_min, T_max and the thresholds, and <c>--reseed-above</c>. Applied to the <c>lte</c> methods and every grid cell.
/// </summary>
internal sealed class MergePolicy
{
    private readonly Option<string> _policy;
    private readonly Option<int> _min, _max;
    private readonly Option<double?> _cosine, _budget, _reseed;

    public MergePolicy(ProgramCommand cli)
    {
        _policy = cli.Choice("--merge-policy", "fixed", "when LTE merges: every T steps, or when the heads' statistics call for it (LteOptions.AdaptiveMerge)", "fixed", "adaptive");
        _min = cli.Add("--merge-min", 5, "adaptive: T_min, no merge sooner after the last one");
        _max = cli.Add("--merge-max", 50, "adaptive: T_max, a merge at the latest this many steps after the last one");
        _cosine = cli.Optional<double?>("--merge-cosine-below", "adaptive: merge when the heads' mean pairwise cosine of s·BₙAₙ falls below this", "C");
        _budget = cli.Optional<double?>("--merge-norm-budget", "adaptive: merge when ‖(1/N) Σ s·BₙAₙ‖ / ‖W‖ reaches this", "B");
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
        double? reseed = parsed.GetValue(_reseed);
        Func<LteOptions, LteOptions> edit = o => o with { AdaptiveMerge = adaptive, ReseedAbove = reseed };
        edit(new LteOptions()).Validate();
        return edit;
    }

    /// <summary>How a grid cell merges, for its table row and CSV field (no commas): the period T, or the controller's settings.</summary>
    public static string Describe(LteOptions options) => options.AdaptiveMerge is { } a
        ? FormattableString.Invariant($"adaptive {a.MinEvery}-{a.MaxEvery}{(a.CosineBelow is { } c ? $" cos<{c}" : "")}{(a.NormBudget is { } b ? $" norm>={b}" : "")}")
        : $"{options.MergeEvery}";
}
