using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace LowRankBias.Torch.Distributed;

/// <summary>
/// Makes sure a rendezvous address answers as a c10d store before the store client connects: that client waits for
/// every answer up to the store's timeout, so another program listening on the port (a stale process, some other
/// service) would hold the rank that long and then fail without saying why. A store answers a CHECK query at once.
/// </summary>
internal static class StoreProbe
{
    /// <summary>How long a store may take to answer; c10d's daemon answers in microseconds.</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(3);

    // c10d's TCPStore protocol: query type CHECK, the number of keys, then each key as length and bytes (all 64-bit
    // little-endian); the answer is one byte, READY (0) or NOT_READY (1). From PyTorch 2.0 a connection must first
    // send VALIDATE (0) and a magic number (the daemon closes it otherwise), and CHECK moved from 4 to 5.
    private const byte Validate = 0;
    private const uint ValidationMagic = 0x3C85F7CE;
    private const string ProbeKey = "lowrankbias/probe";
    private static readonly Lazy<int> s_torchMajor = new(() => int.TryParse(torch.version.Split('.')[0], out int major) ? major : 1);

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> (retrying while nothing listens, up to
    /// <paramref name="timeout"/>) and asks it one CHECK query.</summary>
    /// <exception cref="DistributedException">Nothing listened within the timeout, or what listens is not a store.</exception>
    public static void Check(string host, int port, TimeSpan timeout)
    {
        using Socket socket = Connect(host, port, timeout);
        TimeSpan limit = timeout < AnswerTimeout ? timeout : AnswerTimeout;
        socket.ReceiveTimeout = socket.SendTimeout = (int)Math.Max(1, limit.TotalMilliseconds);
        string notAStore = $"{host}:{port} accepted the connection but is not a rendezvous store";
        var answer = new byte[1];
        int received;
        try
        {
            socket.Send(Query(s_torchMajor.Value));
            received = socket.Receive(answer);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            throw new DistributedException($"{notAStore}: it did not answer a store query within {limit.TotalSeconds:0.#} s (another program on that port?)", e);
        }
        catch (SocketException e)
        {
            throw new DistributedException($"{notAStore}: {e.Message} (another program on that port?)", e);
        }
        if (received != 1 || answer[0] > 1)
            throw new DistributedException(received == 0
                ? $"{notAStore}: it closed the connection at a store query (another program on that port?)"
                : $"{notAStore}: it answered a store query with byte 0x{answer[0]:x2} (another program on that port?)");
    }

    private static Socket Connect(string host, int port, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var cancel = new CancellationTokenSource(timeout - clock.Elapsed is var left && left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
                socket.ConnectAsync(host, port, cancel.Token).AsTask().GetAwaiter().GetResult();
                return socket;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                // The master may not be up yet: try again until the timeout, as c10d's client does.
                if (clock.Elapsed >= timeout)
                    throw new DistributedException($"could not reach the rendezvous store at {host}:{port} within {timeout.TotalSeconds:0.#} s: {e.Message}", e);
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>The probe's bytes for the store protocol of libtorch <paramref name="torchMajor"/>.x.</summary>
    internal static byte[] Query(int torchMajor)
    {
        byte[] key = Encoding.UTF8.GetBytes(ProbeKey);
        int validate = torchMajor >= 2 ? 5 : 0;
        var query = new byte[validate + 1 + 8 + 8 + key.Length];
        if (torchMajor >= 2)
        {
            query[0] = Validate;
            BinaryPrimitives.WriteUInt32LittleEndian(query.AsSpan(1), ValidationMagic);
        }
        query[validate] = (byte)(torchMajor >= 2 ? 5 : 4); // CHECK
        BinaryPrimitives.WriteUInt64LittleEndian(query.AsSpan(validate + 1), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(query.AsSpan(validate + 9), (ulong)key.Length);
        key.CopyTo(query, validate + 17);
        return query;
    }
}
