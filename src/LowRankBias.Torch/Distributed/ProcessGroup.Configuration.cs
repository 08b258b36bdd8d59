using System.Text.Json;

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
        ConfigurationCheck[] all = ExchangeCheck(new ConfigurationCheck("configuration", null, configuration));
        for (int other = 0; other < world_size; other++)
            if (all[other].Text != configuration)
                throw new DistributedException($"rank {rank}: ranks were started with different configurations: {Differences(configuration, all[other].Text!, other)}");
    }

    private int _checks;

    // What a rank posts for a configuration check: what it checks, and the flattened fields or the text.
    private sealed record ConfigurationCheck(string What, SortedDictionary<string, string>? Fields, string? Text);

    // Every rank posts its check under the group's next check number and reads everyone's. Ranks check in the same
    // order, so ranks running different code (one checks its LTE configuration, another its DDP model) meet at the
    // same keys and fail at once naming both, instead of each waiting the store's timeout for keys nobody sets.
    private ConfigurationCheck[] ExchangeCheck(ConfigurationCheck mine)
    {
        string key = $"config/{_checks++}/";
        _store.set(key + rank, JsonSerializer.Serialize(mine));
        var all = new ConfigurationCheck[world_size];
        for (int r = 0; r < world_size; r++)
        {
            all[r] = r == rank ? mine : JsonSerializer.Deserialize<ConfigurationCheck>(_store.get_string(key + r))
                ?? throw new DistributedException($"rank {rank}: rank {r} posted no configuration");
            if (all[r].What != mine.What || (all[r].Fields is null) != (mine.Fields is null))
                throw new DistributedException($"rank {rank}: ranks run different code: rank {rank} checks its {mine.What}, rank {r} its {all[r].What}");
        }
        return all;
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
