namespace LowRankBias.Torch.Distributed;

/// <summary>Kinds of collective a <see cref="ProcessGroup"/> counts.</summary>
public enum CollectiveKind
{
    /// <summary><see cref="ProcessGroup.all_reduce"/>.</summary>
    AllReduce,

    /// <summary><see cref="ProcessGroup.all_gather(IList{Tensor}, Tensor)"/>.</summary>
    AllGather,

    /// <summary><see cref="ProcessGroup.broadcast"/>.</summary>
    Broadcast,
}

/// <summary>
/// Calls and payload bytes (the bytes of this rank's tensor) per kind of collective. What goes over the wire
/// depends on the backend's algorithm: a ring all-reduce sends 2(W−1)/W × payload per rank, a ring all-gather
/// (W−1) × payload; <see cref="WireBytes"/> applies those factors (broadcasts, which setup alone uses, are left out).
/// </summary>
public sealed class CommunicationStats
{
    private readonly long[] _calls = new long[3], _bytes = new long[3];

    /// <summary>Number of calls of <paramref name="kind"/>.</summary>
    public long Calls(CollectiveKind kind) => Interlocked.Read(ref _calls[(int)kind]);

    /// <summary>Payload bytes handed to collectives of <paramref name="kind"/>.</summary>
    public long PayloadBytes(CollectiveKind kind) => Interlocked.Read(ref _bytes[(int)kind]);

    /// <summary>Bytes this rank sends in all-reduces and all-gathers under ring algorithms in a group of <paramref name="world_size"/>.</summary>
    public double WireBytes(int world_size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(world_size);
        double w = world_size;
        return PayloadBytes(CollectiveKind.AllReduce) * 2 * (w - 1) / w
               + PayloadBytes(CollectiveKind.AllGather) * (w - 1);
    }

    internal void Record(CollectiveKind kind, long bytes)
    {
        Interlocked.Increment(ref _calls[(int)kind]);
        Interlocked.Add(ref _bytes[(int)kind], bytes);
    }
}
