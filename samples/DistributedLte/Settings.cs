using System.Globalization;
using LowRankBias.Torch;

namespace DistributedLte;

/// <summary>The command line.</summary>
internal sealed record Settings(
    int? ProcessesPerNode, string Mode, int Steps, int Heads, int Rank, int MergeEvery, int Batch, int Train, ScalarType DType, string? Out,
    bool Elastic, int? FailRank, int FailAtStep, int MaxRestarts)
{
    public static Settings Parse(string[] args)
    {
        string? Option(string name) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
        int Int(string name, int fallback) => Option(name) is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : fallback;
        string mode = Option("--mode") ?? "lte";
        if (mode is not ("lte" or "ddp" or "single")) throw new ArgumentException($"unknown --mode '{mode}': use lte, ddp or single");
        ScalarType dtype = (Option("--dtype") ?? "float32") switch
        {
            "float32" => ScalarType.Float32,
            "float64" => ScalarType.Float64,
            string other => throw new ArgumentException($"unknown --dtype '{other}': use float32 or float64"),
        };
        int? failRank = Option("--fail-rank") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : null;
        bool elastic = args.Contains("--elastic");
        if (elastic && mode != "lte") throw new ArgumentException("--elastic needs --mode lte");
        return new(Option("--nproc-per-node") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : null, mode, Int("--steps", 300),
            Int("--heads", 4), Int("--rank", 16), Int("--merge-every", 10), Int("--batch", 128), Int("--train", 10_000), dtype, Option("--out"),
            elastic, failRank, Int("--fail-at-step", 0), Int("--max-restarts", 0));
    }

    /// <summary>What every rank must agree on (checked on the store before the first collective).</summary>
    public string Fingerprint() => string.Create(CultureInfo.InvariantCulture,
        $"mode={Mode} steps={Steps} heads={Heads} rank={Rank} merge-every={MergeEvery} batch={Batch} train={Train} dtype={DType} elastic={Elastic} fail-rank={FailRank} fail-at-step={FailAtStep}");

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
