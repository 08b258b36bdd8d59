using System.Globalization;
using LowRankBias.Torch.Training;

namespace LowRankBias.Lte;

public sealed partial class LteTrainer
{
    private const string MergesKey = "lte.merges", SinceMergeKey = "lte.since_merge", ResetsKey = "lte.head_resets", RanksKey = "lte.head_ranks";

    /// <summary>
    /// Everything needed to continue exactly from here, also in the middle of a merge cycle: the model (main weights,
    /// every head's factors, replica offsets and correction terms), the heads' optimizer state, the scheduler, the CPU
    /// generator (which re-draws heads at merges), the iteration and merge counts, and the merge controller's state
    /// (steps since the last merge) and head-reset count. The caller adds data-loader
    /// positions and saves it (<see cref="Checkpoint.Save"/>, atomic); the caller owns it.
    /// </summary>
    public Checkpoint Capture()
    {
        Checkpoint checkpoint = Checkpoint.Capture(model, optimizer, scheduler);
        checkpoint.Step = Iteration;
        checkpoint.Metadata[MergesKey] = Merges.ToString(CultureInfo.InvariantCulture);
        checkpoint.Metadata[SinceMergeKey] = StepsSinceMerge.ToString(CultureInfo.InvariantCulture);
        checkpoint.Metadata[ResetsKey] = HeadResets.ToString(CultureInfo.InvariantCulture);
        if (model.options.RankPolicy is not null)
            checkpoint.Metadata[RanksKey] = string.Join(";", model.head_ranks().Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.path}={r.rank}")));
        return checkpoint;
    }

    /// <summary>
    /// Puts this trainer, its model, optimizer and scheduler back where <paramref name="checkpoint"/> was captured; the
    /// next <see cref="Step"/> continues bit-identically on the CPU. A checkpoint of another configuration is refused
    /// with an <see cref="InvalidDataException"/> naming what does not fit.
    /// </summary>
    public void Restore(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        long merges = Counter(checkpoint, MergesKey, "was not captured by an LteTrainer")
            ?? throw new InvalidDataException($"checkpoint {checkpoint.Path ?? "(in memory)"} was not captured by an LteTrainer: it has no '{MergesKey}'");
        // Checkpoints from before the merge controller lack its state; only a fixed period can do without it.
        long? since = Counter(checkpoint, SinceMergeKey, "is damaged");
        if (since is null && model.options.AdaptiveMerge is not null)
            throw new InvalidDataException($"checkpoint {checkpoint.Path ?? "(in memory)"} has no '{SinceMergeKey}' (it predates the merge controller), which LteOptions.AdaptiveMerge needs");
        long resets = Counter(checkpoint, ResetsKey, "is damaged") ?? 0;
        (string path, int rank)[] ranks = HeadRanks(checkpoint);
        checkpoint.Restore(model, optimizer, scheduler);
        foreach ((string path, int rank) in ranks) model.SetHeadRank(path, rank);
        Iteration = checkpoint.Step;
        Merges = merges;
        _schedule.SinceMerge = since ?? 0;
        HeadResets = resets;
    }

    // The layers' head ranks of a run with a rank policy: one valid rank for every adapted layer.
    private (string path, int rank)[] HeadRanks(Checkpoint checkpoint)
    {
        if (model.options.RankPolicy is not { } policy) return [];
        string where = $"checkpoint {checkpoint.Path ?? "(in memory)"}";
        if (!checkpoint.Metadata.TryGetValue(RanksKey, out string? text))
            throw new InvalidDataException($"{where} has no '{RanksKey}', which LteOptions.RankPolicy needs");
        var ranks = new Dictionary<string, int>();
        foreach (string entry in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = entry.LastIndexOf('=');
            if (eq < 0 || !int.TryParse(entry[(eq + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int rank) || rank < policy.MinRank || rank > policy.MaxRank)
                throw new InvalidDataException($"{where}: '{RanksKey}' entry '{entry}' is not layer=rank with a rank in [{policy.MinRank}, {policy.MaxRank}]");
            ranks[entry[..eq]] = rank;
        }
        string[] layers = [.. model.lora_layers().Select(l => l.path)];
        if (!ranks.Keys.Order().SequenceEqual(layers.Order()))
            throw new InvalidDataException($"{where}: '{RanksKey}' names layers {string.Join(", ", ranks.Keys)}, but this model adapts {string.Join(", ", layers)}");
        return [.. layers.Select(l => (l, ranks[l]))];
    }

    // A non-negative counter of the metadata, null when absent; anything else is refused.
    private static long? Counter(Checkpoint checkpoint, string key, string problem)
    {
        if (!checkpoint.Metadata.TryGetValue(key, out string? text)) return null;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            throw new InvalidDataException($"checkpoint {checkpoint.Path ?? "(in memory)"} {problem}: '{key}' is '{text}', not a count");
        return value;
    }
}
