using System.Globalization;

namespace LowRankBias.Torch.Distributed;

/// <summary>
/// Where this process sits in a job, read the way PyTorch jobs are launched: torchrun's variables (<c>RANK</c>,
/// <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>, <c>MASTER_ADDR</c>, <c>MASTER_PORT</c>) first, then Slurm's
/// (<c>SLURM_PROCID</c>, <c>SLURM_NTASKS</c>, <c>SLURM_LOCALID</c>, master <c>SLURM_LAUNCH_NODE_IPADDR</c>) and Open
/// MPI's (<c>OMPI_COMM_WORLD_RANK</c>, <c>_SIZE</c>, <c>_LOCAL_RANK</c>). Without any of them: a single process.
/// <c>GLOO_SOCKET_IFNAME</c> picks Gloo's network interface, as in PyTorch.
/// </summary>
public sealed record DistributedEnvironment
{
    /// <summary>torchrun's default master port.</summary>
    public const int DefaultPort = 29500;

    /// <summary>This process's rank.</summary>
    public int Rank { get; init; }

    /// <summary>Number of processes.</summary>
    public int WorldSize { get; init; } = 1;

    /// <summary>Rank among the processes of this machine (picks the CUDA device).</summary>
    public int LocalRank { get; init; }

    /// <summary>Address of rank 0, which hosts the rendezvous store.</summary>
    public string MasterAddress { get; init; } = "127.0.0.1";

    /// <summary>Port of the rendezvous store.</summary>
    public int MasterPort { get; init; } = DefaultPort;

    /// <summary>Network interface for Gloo, or null for the default.</summary>
    public string? GlooInterface { get; init; }

    /// <summary>
    /// The rendezvous store is hosted by the launcher's agent, not by rank 0 (torchrun's
    /// <c>TORCHELASTIC_USE_AGENT_STORE</c>), so that any rank, rank 0 included, may die without taking the store along.
    /// </summary>
    public bool AgentStore { get; init; }

    /// <summary>How many times this rank's process was restarted after failing (torchrun's <c>TORCHELASTIC_RESTART_COUNT</c>); 0 at first start.</summary>
    public int RestartCount { get; init; }

    /// <summary>Which convention the values came from: torchrun, slurm, openmpi or none.</summary>
    public string Source { get; init; } = "none";

    /// <summary>The variables as torchrun sets them, for starting a process with this place in the job.</summary>
    public IReadOnlyDictionary<string, string> ToVariables() => new Dictionary<string, string>
    {
        ["RANK"] = Rank.ToString(CultureInfo.InvariantCulture),
        ["WORLD_SIZE"] = WorldSize.ToString(CultureInfo.InvariantCulture),
        ["LOCAL_RANK"] = LocalRank.ToString(CultureInfo.InvariantCulture),
        ["MASTER_ADDR"] = MasterAddress,
        ["MASTER_PORT"] = MasterPort.ToString(CultureInfo.InvariantCulture),
        ["TORCHELASTIC_USE_AGENT_STORE"] = AgentStore ? "True" : "False",
        ["TORCHELASTIC_RESTART_COUNT"] = RestartCount.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>This process's place, from its environment variables.</summary>
    public static DistributedEnvironment FromEnvironment() => FromVariables(name => Environment.GetEnvironmentVariable(name));

    /// <summary>The place described by <paramref name="variable"/> (a lookup of environment variables; null when unset).</summary>
    public static DistributedEnvironment FromVariables(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        (string source, string rank, string size, string local)? convention =
            variable("RANK") is not null || variable("WORLD_SIZE") is not null ? ("torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK")
            : variable("SLURM_PROCID") is not null ? ("slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID")
            : variable("OMPI_COMM_WORLD_RANK") is not null ? ("openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK")
            : null;
        string master = variable("MASTER_ADDR") ?? (convention?.source == "slurm" ? variable("SLURM_LAUNCH_NODE_IPADDR") : null) ?? "127.0.0.1";
        int port = Integer(variable, "MASTER_PORT", DefaultPort);
        if (port is < 1 or > 65535) throw new ArgumentException($"MASTER_PORT={port} is not a TCP port");
        var env = new DistributedEnvironment
        {
            MasterAddress = master, MasterPort = port, GlooInterface = variable("GLOO_SOCKET_IFNAME"),
            AgentStore = variable("TORCHELASTIC_USE_AGENT_STORE") is { } agent && (agent.Equals("true", StringComparison.OrdinalIgnoreCase) || agent == "1"),
            RestartCount = Integer(variable, "TORCHELASTIC_RESTART_COUNT", 0),
        };
        if (convention is not { } c) return env;
        env = env with
        {
            Source = c.source,
            Rank = Integer(variable, c.rank, 0),
            WorldSize = Integer(variable, c.size, -1),
            LocalRank = Integer(variable, c.local, 0),
        };
        if (env.WorldSize < 1) throw new ArgumentException($"{c.size} must be set to a positive number of processes ({c.source} launch)");
        if (env.Rank < 0 || env.Rank >= env.WorldSize) throw new ArgumentException($"{c.rank}={env.Rank} is outside [0, {env.WorldSize}) ({c.source} launch)");
        return env;
    }

    private static int Integer(Func<string, string?> variable, string name, int fallback)
    {
        string? text = variable(name);
        if (text is null) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new ArgumentException($"{name}='{text}' is not an integer");
    }
}
