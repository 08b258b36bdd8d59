namespace LowRankBias.Torch.Distributed;

// Checking, before the first collective, that every rank runs the same configuration.
public sealed partial class ProcessGroup
{
    /// <summary>
    /// Fails in seconds, naming both sides, when ranks were started with different settings: each rank posts
    /// <paramref name="configuration"/> (space-separated <c>key=value</c> pairs, e.g. <c>"mode=lte steps=300"</c>) on the
    /// rendezvous store and compares it with every other rank's. Without it, ranks running different code meet in
    /// different collectives and wait for the timeout. Call it once, right after forming the group, on every rank.
    /// </summary>
    /// <exception cref="DistributedException">Another rank's configuration differs; the message lists each difference.</exception>
    public void check_same_configuration(string configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        _store.set($"configuration/{rank}", configuration);
        for (int other = 0; other < world_size; other++)
        {
            if (other == rank) continue;
            string theirs = _store.get_string($"configuration/{other}");
            if (theirs != configuration)
                throw new DistributedException($"rank {rank}: ranks were started with different configurations: {Differences(configuration, theirs, other)}");
        }
    }

    // "mode: lte (rank 0) vs ddp (rank 1); steps: ..." for key=value pairs, the two whole texts otherwise.
    private string Differences(string mine, string theirs, int other)
    {
        Dictionary<string, string> a = Pairs(mine), b = Pairs(theirs);
        var keys = a.Keys.Union(b.Keys).Where(k => a.GetValueOrDefault(k) != b.GetValueOrDefault(k)).ToList();
        return keys.Count == 0
            ? $"\"{mine}\" (rank {rank}) vs \"{theirs}\" (rank {other})"
            : string.Join("; ", keys.Select(k => $"{k}: {a.GetValueOrDefault(k) ?? "(unset)"} (rank {rank}) vs {b.GetValueOrDefault(k) ?? "(unset)"} (rank {other})"));
    }

    private static Dictionary<string, string> Pairs(string text)
    {
        var pairs = new Dictionary<string, string>();
        foreach (string token in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = token.IndexOf('=');
            if (eq > 0) pairs[token[..eq]] = token[(eq + 1)..];
        }
        return pairs;
    }
}
