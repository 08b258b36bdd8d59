using System.Net;
using System.Net.Sockets;
using LowRankBias.Torch.Distributed;

namespace LowRankBias.Torch.Tests.Distributed;

/// <summary>Runs a Gloo group of ranks as threads of this process over loopback, each with its own store client.</summary>
internal static class LocalRanks
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>A TCP port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static DistributedEnvironment Environment(int rank, int worldSize, int port) =>
        new() { Rank = rank, WorldSize = worldSize, MasterAddress = "127.0.0.1", MasterPort = port };

    /// <summary>Runs <paramref name="body"/> on every rank and returns their results in rank order; rethrows the first failure.</summary>
    public static T[] Run<T>(int worldSize, Func<ProcessGroup, T> body, TimeSpan? timeout = null)
    {
        int port = FreePort();
        var results = new T[worldSize];
        Task[] ranks = Enumerable.Range(0, worldSize).Select(rank => Task.Factory.StartNew(() =>
        {
            using ProcessGroup group = ProcessGroup.init_process_group("gloo", timeout ?? Timeout, Environment(rank, worldSize, port));
            results[rank] = body(group);
        }, TaskCreationOptions.LongRunning)).ToArray();
        if (!Task.WaitAll(ranks, TimeSpan.FromSeconds(60))) throw new TimeoutException("ranks did not finish within 60 s");
        return results;
    }
}
