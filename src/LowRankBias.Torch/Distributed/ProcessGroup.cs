using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch.Distributed;

/// <summary>
/// A c10d process group (<c>torch.distributed</c>'s, over libtorch's own engine): Gloo on CPU tensors, NCCL on CUDA
/// tensors. Collectives work in place, block until done, and raise a <see cref="DistributedException"/> when a peer
/// fails or the group's timeout passes. Build one with <see cref="init_process_group"/> from the launch environment
/// (torchrun, Slurm, Open MPI) or from a <see cref="TCPStore"/> you made.
/// </summary>
public sealed partial class ProcessGroup : IDisposable
{
    private IntPtr _handle;
    private int _disposed;
    private readonly TCPStore _store;
    private bool _ownsStore;
    private readonly string? _glooInterface, _glooHostname;

    /// <summary>Joins the group of <paramref name="world_size"/> ranks that rendezvous on <paramref name="store"/>.</summary>
    /// <param name="backend"><c>"gloo"</c> or <c>"nccl"</c>.</param>
    /// <param name="store">The rendezvous; the group keeps using it (it is not disposed with the group).</param>
    /// <param name="rank">This process's rank, 0 ≤ rank &lt; world_size.</param>
    /// <param name="world_size">Number of ranks.</param>
    /// <param name="timeout">Bound on the rendezvous and on every collective.</param>
    /// <param name="gloo_interface">Network interface Gloo binds (as <c>GLOO_SOCKET_IFNAME</c>); default: this host's address, or loopback when the master is local.</param>
    public ProcessGroup(string backend, TCPStore store, int rank, int world_size, TimeSpan timeout, string? gloo_interface = null)
        : this(backend, store, rank, world_size, timeout, gloo_interface, GlooHostname(gloo_interface, null), ownsStore: false)
    {
    }

    private ProcessGroup(string backend, TCPStore store, int rank, int world_size, TimeSpan timeout, string? glooInterface, string? glooHostname, bool ownsStore)
    {
        ArgumentException.ThrowIfNullOrEmpty(backend);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(world_size);
        if (rank < 0 || rank >= world_size) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must be in [0, {world_size})");
        TCPStore.ThrowIfNotPositive(timeout, nameof(timeout));
        if (!is_backend_available(backend))
            throw new ArgumentException($"backend '{backend}' is not available in this build (gloo: {is_backend_available("gloo")}, nccl: {is_backend_available("nccl")})", nameof(backend));
        if (lrb_process_group_create(backend, store.Handle, rank, world_size, (long)timeout.TotalMilliseconds, glooInterface, glooHostname, out _handle) != 0)
            throw new DistributedException($"rank {rank}: could not form the {backend} group of {world_size} ranks within {timeout.TotalSeconds:0.#} s: {TCPStore.LastError()}");
        this.backend = backend;
        this.rank = rank;
        initial_rank = rank;
        this.world_size = world_size;
        this.timeout = timeout;
        _store = store;
        _ownsStore = ownsStore;
        _glooInterface = glooInterface;
        _glooHostname = glooHostname;
        _rendezvous = store;
        _ownsRendezvous = ownsStore;
    }

    /// <summary>
    /// <c>torch.distributed.init_process_group</c>: reads rank, world size and master address from
    /// <paramref name="environment"/> (default: this process's, see <see cref="DistributedEnvironment.FromEnvironment"/>),
    /// hosts the store on rank 0, and joins. The group owns its store.
    /// </summary>
    public static ProcessGroup init_process_group(string backend = "gloo", TimeSpan? timeout = null, DistributedEnvironment? environment = null)
    {
        DistributedEnvironment env = environment ?? DistributedEnvironment.FromEnvironment();
        TimeSpan limit = timeout ?? TimeSpan.FromMinutes(5);
        var store = new TCPStore(env.MasterAddress, env.MasterPort, is_server: env.Rank == 0 && !env.AgentStore, limit, env.WorldSize);
        try
        {
            return new ProcessGroup(backend, store, env.Rank, env.WorldSize, limit, env.GlooInterface, GlooHostname(env.GlooInterface, env.MasterAddress), ownsStore: true);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Whether this build of the native library has <paramref name="backend"/> (<c>"gloo"</c>, <c>"nccl"</c>).</summary>
    public static bool is_backend_available(string backend) => lrb_dist_has_backend(backend ?? throw new ArgumentNullException(nameof(backend))) != 0;

    /// <summary>The backend's name.</summary>
    public string backend { get; }

    /// <summary>This process's rank.</summary>
    public int rank { get; }

    /// <summary>Number of ranks.</summary>
    public int world_size { get; }

    /// <summary>The bound on every collective.</summary>
    public TimeSpan timeout { get; }

    /// <summary>The rendezvous store.</summary>
    public TCPStore store => _store;

    /// <summary>What this rank handed to collectives so far.</summary>
    public CommunicationStats stats { get; } = new();

    private IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(ProcessGroup));

    /// <summary>Reduces <paramref name="tensor"/> over all ranks, in place (<c>dist.all_reduce</c>).</summary>
    public void all_reduce(Tensor tensor, ReduceOp op = ReduceOp.SUM)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        CheckContiguous(tensor, nameof(tensor));
        Run(lrb_all_reduce(Handle, tensor.Handle, (int)op), "all_reduce", tensor);
        stats.Record(CollectiveKind.AllReduce, Bytes(tensor));
    }

    /// <summary>Fills <paramref name="tensor_list"/>[r] with rank r's <paramref name="tensor"/> (<c>dist.all_gather</c>).</summary>
    public unsafe void all_gather(IList<Tensor> tensor_list, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor_list);
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor_list.Count != world_size) throw new ArgumentException($"all_gather needs {world_size} output tensors, one per rank; got {tensor_list.Count}", nameof(tensor_list));
        CheckContiguous(tensor, nameof(tensor));
        foreach (Tensor output in tensor_list)
        {
            CheckContiguous(output, nameof(tensor_list));
            if (!output.shape.SequenceEqual(tensor.shape) || output.dtype != tensor.dtype)
                throw new ArgumentException($"every output must match the input's shape [{string.Join(", ", tensor.shape)}] and dtype {tensor.dtype}", nameof(tensor_list));
        }
        IntPtr* outputs = stackalloc IntPtr[world_size];
        for (int r = 0; r < world_size; r++) outputs[r] = tensor_list[r].Handle;
        Run(lrb_all_gather(Handle, tensor.Handle, outputs, world_size), "all_gather", tensor);
        GC.KeepAlive(tensor_list);
        stats.Record(CollectiveKind.AllGather, Bytes(tensor));
    }

    /// <summary>Every rank's <paramref name="tensor"/>, stacked in rank order along a new first dimension.</summary>
    public Tensor all_gather(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Tensor gathered = torch.empty([world_size, .. tensor.shape], tensor.dtype, tensor.device);
        using var scope = torch.NewDisposeScope();
        Tensor[] parts = Enumerable.Range(0, world_size).Select(r => gathered.select(0, r)).ToArray();
        all_gather(parts, tensor.contiguous());
        return gathered;
    }

    /// <summary>Copies rank <paramref name="src"/>'s <paramref name="tensor"/> into every rank's (<c>dist.broadcast</c>).</summary>
    public void broadcast(Tensor tensor, int src)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (src < 0 || src >= world_size) throw new ArgumentOutOfRangeException(nameof(src), src, $"src must be a rank in [0, {world_size})");
        CheckContiguous(tensor, nameof(tensor));
        Run(lrb_broadcast(Handle, tensor.Handle, src), "broadcast", tensor);
        stats.Record(CollectiveKind.Broadcast, Bytes(tensor));
    }

    /// <summary>Returns once every rank has called it (<c>dist.barrier</c>).</summary>
    public void barrier()
    {
        if (lrb_barrier(Handle) != 0) throw Failure("barrier");
    }

    /// <summary>Leaves the group (<c>dist.destroy_process_group</c>).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        IntPtr handle = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (handle != IntPtr.Zero) lrb_process_group_free(handle); // already freed when the group was re-formed
        if (_ownsStore) _store.Dispose();
        if (_ownsRendezvous && !ReferenceEquals(_rendezvous, _store)) _rendezvous.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the native group if the owner forgot to.</summary>
    ~ProcessGroup() => Dispose();

    // Gloo needs an address to bind: loopback when the whole job is on this machine, else the default device.
    private static string? GlooHostname(string? glooInterface, string? master) =>
        glooInterface is null && master is "127.0.0.1" or "localhost" or "::1" ? "127.0.0.1" : null;

    private static void CheckContiguous(Tensor tensor, string name)
    {
        if (!tensor.is_contiguous()) throw new ArgumentException("collectives need contiguous tensors; call .contiguous() first", name);
    }

    private static long Bytes(Tensor tensor) => tensor.numel() * tensor.dtype.ElementSize();

    private void Run(int status, string what, Tensor tensor)
    {
        GC.KeepAlive(tensor);
        if (status != 0) throw Failure(what);
    }

    private DistributedException Failure(string what) => new(
        $"rank {rank} of {world_size}: {what} failed (a peer died, or did not answer within {timeout.TotalSeconds:0.#} s): {TCPStore.LastError()}");
}
