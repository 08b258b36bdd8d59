using System.Globalization;
using System.Text.Json;

namespace LowRankBias.Torch.Distributed;

// Checking, before the first collective, that every rank runs the same configuration.
public sealed partial class ProcessGroup
{
    /// <summary>
    /// Refuses to go on unless every rank passed the same <paramref name="configuration"/> (any JSON-serialisable
    /// value; the world size is added): each rank publishes its own and compares every rank's with rank 0's, so all
    /// of them raise the same <see cref="DistributedException"/> naming the fields that differ and the ranks. Ranks
    /// that check something else at this point (a different <paramref name="name"/>: DistributedLte on one rank,
    /// DistributedDataParallel on another) fail as quickly, naming both. Without it, ranks started differently meet
    /// in different collectives and wait for the timeout: call it right after forming the group, on every rank.
    /// </summary>
    public void CheckSameConfiguration(string name, object configuration)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configuration);
        var mine = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["world_size"] = world_size.ToString(CultureInfo.InvariantCulture) };
        Flatten(JsonSerializer.SerializeToElement(configuration), "", mine);
        ConfigurationCheck[] all = ExchangeCheck(new ConfigurationCheck(name, mine));
        var reference = all[0].Fields;
        var problems = new List<string>();
        for (int r = 1; r < world_size; r++)
        {
            var other = all[r].Fields;
            IEnumerable<string> differing = reference.Keys.Union(other.Keys)
                .Where(k => !reference.TryGetValue(k, out string? a) || !other.TryGetValue(k, out string? b) || a != b);
            foreach (string field in differing)
                problems.Add($"{field}: rank 0 has {reference.GetValueOrDefault(field, "(none)")}, rank {r} has {other.GetValueOrDefault(field, "(none)")}");
        }
        if (problems.Count > 0) throw new DistributedException($"ranks were started with different {name}: {string.Join("; ", problems)}");
    }

    private int _checks;

    // What a rank posts for a configuration check: what it checks, and the flattened fields.
    private sealed record ConfigurationCheck(string What, SortedDictionary<string, string> Fields);

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
            if (all[r].What != mine.What)
                throw new DistributedException($"rank {rank}: ranks run different code: rank {rank} checks its {mine.What}, rank {r} its {all[r].What}");
        }
        return all;
    }

    private static void Flatten(JsonElement element, string prefix, IDictionary<string, string> into)
    {
        if (element.ValueKind == JsonValueKind.Object)
            foreach (JsonProperty property in element.EnumerateObject())
                Flatten(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}", into);
        else into[prefix.Length == 0 ? "value" : prefix] = element.GetRawText();
    }
}
