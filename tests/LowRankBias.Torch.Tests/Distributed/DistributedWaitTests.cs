using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LowRankBias.Torch.Distributed;

namespace LowRankBias.Torch.Tests.Distributed;

/// <summary>Nothing distributed waits for a timeout when the cause is known: ranks configured differently fail at
/// once naming both sides, and a stalled rank does not keep the launcher of an elastic job waiting.</summary>
public class DistributedWaitTests
{
    [Fact]
    public void RanksWithDifferentConfigurationsFailInSecondsNamingBothSides()
    {
        int port = LocalRanks.FreePort();
        var clock = Stopwatch.StartNew();
        Exception?[] errors = Enumerable.Range(0, 2).Select(rank => Task.Factory.StartNew(() =>
        {
            using ProcessGroup group = ProcessGroup.init_process_group("gloo", TimeSpan.FromSeconds(60), LocalRanks.Environment(rank, 2, port));
            try { group.CheckSameConfiguration("settings", rank == 0 ? new { mode = "lte", steps = 300, batch = 128 } : new { mode = "ddp", steps = 300, batch = 64 }); }
            catch (Exception e) { return e; }
            return null;
        }, TaskCreationOptions.LongRunning)).ToArray().Select(t => t.GetAwaiter().GetResult()).ToArray();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed.TotalSeconds:F0} s (the group timeout is 60 s)");
        var first = Assert.IsType<DistributedException>(errors[0]);
        const string expected = "ranks were started with different settings: batch: rank 0 has 128, rank 1 has 64; mode: rank 0 has \"lte\", rank 1 has \"ddp\"";
        Assert.Equal(expected, first.Message);
        Assert.Equal(expected, Assert.IsType<DistributedException>(errors[1]).Message);
    }

    [Fact]
    public void SameConfigurationPasses()
    {
        string[] done = LocalRanks.Run(3, group =>
        {
            group.CheckSameConfiguration("settings", new { mode = "lte", steps = 300 });
            return "ok";
        });
        Assert.Equal(["ok", "ok", "ok"], done);
    }

    [Fact]
    public void ElasticLauncherStopsARankStalledAfterTheOthersFinished()
    {
        var lines = new List<string>();
        var clock = Stopwatch.StartNew();
        // Rank 1 stops itself (SIGSTOP) as a stalled rank would; rank 0 finishes the job.
        int[] codes = LocalLauncher.Run("/bin/sh", ["-c", "if [ \"$RANK\" = 1 ]; then kill -STOP $$; fi; exit 0"], 2,
            timeout: TimeSpan.FromSeconds(90), output: (rank, line) => { lock (lines) lines.Add($"{rank}: {line}"); },
            stopAllOnFailure: false, stragglerTimeout: TimeSpan.FromSeconds(2));

        Assert.Equal([0, -1], codes);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"took {clock.Elapsed.TotalSeconds:F0} s (the launcher's timeout is 90 s)");
        Assert.Contains(lines, l => l.StartsWith("1: still running 2 s after another rank finished the job (stalled?)", StringComparison.Ordinal));
    }

    [Fact]
    public void LauncherReturnsWhenEveryRankExitsAtOnce()
    {
        // Ranks that all exit within microseconds of each other: the launcher once saw one still running, then found
        // none left to wait for, and threw ArgumentException ("The tasks argument contains no tasks") from Task.WhenAny.
        for (int attempt = 0; attempt < 30; attempt++)
        {
            int[] codes = LocalLauncher.Run("/bin/sh", ["-c", "exit 0"], 12, timeout: TimeSpan.FromSeconds(60), output: (_, _) => { },
                stopAllOnFailure: false, stragglerTimeout: TimeSpan.FromSeconds(30));
            Assert.Equal(new int[12], codes);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("HTTP/1.1 400 Bad Request\r\n\r\n")]
    public void ARankThatReachesAForeignListenerFailsInSecondsNamingTheAddress(string? says)
    {
        // Something that is not a store listens on the master port: it accepts, then says nothing or garbage.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = new List<Socket>();
        var serving = Task.Run(async () =>
        {
            while (true)
            {
                Socket client;
                try { client = await listener.AcceptSocketAsync(); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
                lock (accepted) accepted.Add(client);
                if (says is not null) client.Send(System.Text.Encoding.ASCII.GetBytes(says));
            }
        });
        var clock = Stopwatch.StartNew();
        try
        {
            var e = Assert.Throws<DistributedException>(() => new TCPStore("127.0.0.1", port, is_server: false, TimeSpan.FromSeconds(60)));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed.TotalSeconds:F0} s (the store timeout is 60 s)");
            Assert.Contains($"127.0.0.1:{port} accepted the connection but is not a rendezvous store", e.Message);
        }
        finally
        {
            listener.Stop();
            lock (accepted) foreach (Socket s in accepted) s.Dispose();
        }
    }

    // PyTorch 2.x's store daemon (torch/csrc/distributed/c10d/TCPStoreBackend.cpp) closes a connection whose first
    // query is not VALIDATE (0) with the magic 0x3C85F7CE, and numbers CHECK 5 (VALIDATE, SET, COMPARE_SET, GET, ADD,
    // CHECK, ...); libtorch 1.13's daemon, which the other tests meet for real, has no VALIDATE and CHECK 4. The probe
    // for a 2.x bridge must get a CHECK answer from a daemon that follows the 2.x rules, and 1.13's bytes must not.
    [Theory]
    [InlineData(2, true)]
    [InlineData(1, false)]
    public async Task TheProbeSpeaksTheStoreProtocolOfItsLibtorch(int torchMajor, bool answered)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var daemon = Task.Run(() =>
        {
            using Socket peer = listener.AcceptSocket();
            using var stream = new NetworkStream(peer);
            using var reader = new BinaryReader(stream);
            if (reader.ReadByte() != 0 || reader.ReadUInt32() != 0x3C85F7CE) return; // closes: not a validated client
            if (reader.ReadByte() != 5) return;                                         // only CHECK is emulated
            ulong keys = reader.ReadUInt64();
            for (ulong i = 0; i < keys; i++) reader.ReadBytes(checked((int)reader.ReadUInt64()));
            stream.WriteByte(1); // NOT_READY
        });
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
        client.Connect(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        client.Send(StoreProbe.Query(torchMajor));
        var answer = new byte[1];
        int received;
        try { received = client.Receive(answer); }
        catch (SocketException) { received = 0; } // reset by the closing daemon
        Assert.Same(daemon, await Task.WhenAny(daemon, Task.Delay(TimeSpan.FromSeconds(5))));
        Assert.Equal(answered, received == 1 && answer[0] == 1);
    }
}
