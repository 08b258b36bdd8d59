namespace DistributedLte;

/// <summary>Bytes the loopback interface has carried since boot (Linux /proc/net/dev; 0 elsewhere).</summary>
internal static class Loopback
{
    public static long Bytes()
    {
        const string path = "/proc/net/dev";
        if (!File.Exists(path)) return 0;
        string? line = File.ReadLines(path).FirstOrDefault(l => l.TrimStart().StartsWith("lo:", StringComparison.Ordinal));
        if (line is null) return 0;
        // "lo: rx_bytes rx_packets … tx_bytes …": on loopback every byte sent is received once, so rx counts them.
        return long.Parse(line.Split(':')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
