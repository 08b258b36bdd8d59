using System.Text;
using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch.Distributed;

/// <summary>
/// c10d's key-value store over TCP (<c>torch.distributed.TCPStore</c>): the rendezvous of a process group. One
/// process (rank 0, on the master address) is the server; every process is a client. <see cref="get"/> waits for
/// its key up to the store's timeout.
/// </summary>
public sealed class TCPStore : IDisposable
{
    private IntPtr _handle;

    /// <summary>
    /// Connects to <paramref name="host"/>:<paramref name="port"/>, hosting the store there too when
    /// <paramref name="is_server"/> (the port must be free). Fails within <paramref name="timeout"/> when the master
    /// cannot be reached, and within a few seconds when what listens there is not a rendezvous store.
    /// </summary>
    public TCPStore(string host, int port, bool is_server, TimeSpan timeout, int world_size = -1)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        ThrowIfNotPositive(timeout, nameof(timeout));
        if (!is_server) StoreProbe.Check(host, port, timeout);
        int status = lrb_tcp_store_create(host, port, is_server ? 1 : 0, world_size, (long)timeout.TotalMilliseconds, out _handle);
        if (status != 0)
            throw new DistributedException(is_server
                ? $"could not host the rendezvous store on {host}:{port} (is the port in use?): {LastError()}"
                : $"could not reach the rendezvous store at {host}:{port} within {timeout.TotalSeconds:0.#} s: {LastError()}");
        this.timeout = timeout;
    }

    private TCPStore(IntPtr handle, TimeSpan timeout)
    {
        _handle = handle;
        this.timeout = timeout;
    }

    /// <summary>How long <see cref="get"/> waits for a key.</summary>
    public TimeSpan timeout { get; }

    internal IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(TCPStore));

    /// <summary>A view of this store whose keys all start with <paramref name="prefix"/> (one rendezvous round); dispose it separately.</summary>
    public TCPStore WithPrefix(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        Check(lrb_store_prefixed(Handle, prefix, out IntPtr prefixed));
        return new TCPStore(prefixed, timeout);
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>.</summary>
    public unsafe void set(string key, byte[] value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        fixed (byte* p = value) Run(lrb_store_set(Handle, key, p, value.Length), $"set '{key}'");
    }

    /// <summary>Sets <paramref name="key"/> to a UTF-8 string.</summary>
    public void set(string key, string value) => set(key, Encoding.UTF8.GetBytes(value ?? throw new ArgumentNullException(nameof(value))));

    /// <summary>The value of <paramref name="key"/>, waiting for it up to <see cref="timeout"/>.</summary>
    public byte[] get(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Run(lrb_store_get(Handle, key, out IntPtr value), $"get '{key}' (waited {timeout.TotalSeconds:0.#} s)");
        using var tensor = new Tensor(value);
        return tensor.ToArray<byte>();
    }

    /// <summary>The value of <paramref name="key"/> as a UTF-8 string (see <see cref="get"/>).</summary>
    public string get_string(string key) => Encoding.UTF8.GetString(get(key));

    /// <summary>Adds <paramref name="delta"/> to the counter <paramref name="key"/> (created at 0) and returns its new value.</summary>
    public long add(string key, long delta)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Run(lrb_store_add(Handle, key, delta, out long value), $"add to '{key}'");
        return value;
    }

    /// <summary>Whether <paramref name="key"/> is set, without waiting.</summary>
    public bool check(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Run(lrb_store_check(Handle, key, out int present), $"check '{key}'");
        return present != 0;
    }

    /// <summary>Closes the connection (and, on the server, stops serving).</summary>
    public void Dispose()
    {
        IntPtr handle = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (handle != IntPtr.Zero) lrb_store_free(handle);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the native store if the owner forgot to.</summary>
    ~TCPStore() => Dispose();

    internal static void ThrowIfNotPositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(name, value, "the timeout must be positive");
    }

    internal static string LastError() => System.Runtime.InteropServices.Marshal.PtrToStringUTF8(lrb_last_error()) ?? "unknown native error";

    private static void Run(int status, string what)
    {
        if (status != 0) throw new DistributedException($"store {what} failed: {LastError()}");
    }
}
