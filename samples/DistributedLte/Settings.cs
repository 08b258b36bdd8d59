using System.CommandLine;
using LowRankBias.Lte;

namespace DistributedLte;

/// <summary>The command line.</summary>
internal sealed record Settings(
    int? ProcessesPerNode, string Mode, int Steps, int Heads, int Rank, int MergeEvery, int Batch, int Train, ScalarType DType, string? Out,
    bool Elastic, int? FailRank, int FailAtStep, int MaxRestarts, int Timeout, LteAdaptiveMerge? AdaptiveMerge)
{
    public static Settings Parse(string[] args)
    {
        var cli = new ProgramCommand("distributed-lte",
            "LTE over processes on libtorch's c10d (Gloo), its data-parallel baseline and the single-device simulation, on a Fashion-MNIST MLP. " +
            "Without --nproc-per-node and outside a launcher it runs as one process.");
        var nproc = cli.Optional<int?>("--nproc-per-node", "launch this many local ranks (like torchrun --nproc-per-node)", "N");
        var mode = cli.Choice("--mode", "lte", "what to train", "lte", "ddp", "single");
        var steps = cli.Add("--steps", 300, "optimizer steps");
        var heads = cli.Add("--heads", 4, "LTE heads (split among the ranks)");
        var rank = cli.Add("--rank", 16, "rank of each head");
        var mergeEvery = cli.Add("--merge-every", 10, "merge period T in steps");
        var batch = cli.Add("--batch", 128, "mini-batch per head");
        var train = cli.Add("--train", 10_000, "training images used");
        var dtype = cli.Choice("--dtype", "float32", "parameter type", "float32", "float64");
        var elastic = cli.Flag("--elastic", "survivors of a dead rank re-form the group and go on (--mode lte)");
        var failRank = cli.Optional<int?>("--fail-rank", "this rank kills itself before step --fail-at-step (a fault-tolerance test)", "R");
        var failAtStep = cli.Add("--fail-at-step", 0, "the step before which --fail-rank dies");
        var maxRestarts = cli.Add("--max-restarts", 0, "the launcher restarts a dead rank up to this many times; it rejoins at the next merge");
        var policy = cli.Choice("--merge-policy", "fixed", "when LTE merges: every --merge-every steps, or as the controller decides (LteOptions.AdaptiveMerge)", "fixed", "adaptive");
        var mergeMin = cli.Add("--merge-min", 5, "adaptive: T_min");
        var mergeMax = cli.Add("--merge-max", 50, "adaptive: T_max");
        var cosine = cli.Optional<double?>("--merge-cosine-below", "adaptive: merge when the heads' mean pairwise cosine of s·BₙAₙ falls below this", "C");
        var budget = cli.Optional<double?>("--merge-norm-budget", "adaptive: merge when ‖(1/N) Σ s·BₙAₙ‖ / ‖W‖ reaches this", "B");
        var timeout = cli.Add("--timeout", 30, "seconds a rank waits for a silent (stopped, hung) peer before failing or, with --elastic, re-forming without it");
        var parsed = cli.Parse(args);
        string chosenMode = parsed.GetValue(mode)!;
        if (parsed.GetValue(elastic) && chosenMode != "lte") throw new ArgumentException("--elastic needs --mode lte");
        foreach (Option<int> count in new[] { steps, heads, rank, mergeEvery, batch, train, timeout })
            if (parsed.GetValue(count) < 1) throw new ArgumentException($"{count.Name} {parsed.GetValue(count)}: must be at least 1");
        if (parsed.GetValue(maxRestarts) < 0) throw new ArgumentException($"--max-restarts {parsed.GetValue(maxRestarts)}: must be at least 0");
        LteAdaptiveMerge? adaptive = parsed.GetValue(policy) == "adaptive"
            ? new LteAdaptiveMerge { MinEvery = parsed.GetValue(mergeMin), MaxEvery = parsed.GetValue(mergeMax), CosineBelow = parsed.GetValue(cosine), NormBudget = parsed.GetValue(budget) }
            : null;
        new LteOptions { AdaptiveMerge = adaptive }.Validate(); // bad bounds or thresholds fail here, naming the setting
        return new(parsed.GetValue(nproc), chosenMode, parsed.GetValue(steps), parsed.GetValue(heads), parsed.GetValue(rank), parsed.GetValue(mergeEvery),
            parsed.GetValue(batch), parsed.GetValue(train), parsed.GetValue(dtype) == "float64" ? ScalarType.Float64 : ScalarType.Float32, cli.Output(parsed),
            parsed.GetValue(elastic), parsed.GetValue(failRank), parsed.GetValue(failAtStep), parsed.GetValue(maxRestarts), parsed.GetValue(timeout), adaptive);
    }

    /// <summary>What every rank must agree on (checked on the store before the first collective): all but the launcher's options and --out.</summary>
    public object Fingerprint() => new { Mode, Steps, Heads, Rank, MergeEvery, Batch, Train, DType = DType.ToString(), Elastic, FailRank, FailAtStep, Timeout, AdaptiveMerge };

    /// <summary>The arguments each rank gets: the launcher's own options removed.</summary>
    public static IEnumerable<string> WithoutLauncherOptions(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--nproc-per-node" or "--max-restarts") { i++; continue; }
            yield return args[i];
        }
    }
}
