using System.Diagnostics;
using System.Globalization;

namespace LowRankBias.Torch.Distributed;

// Elastic membership: re-forming a group without the ranks that died, and letting restarted ranks back in. Every
// re-formation is a rendezvous round "reform/{generation}/" on the job's store: members enter it with a ticket and
// their initial rank, a size is agreed, and they form a new group ordered by initial rank.
public sealed partial class ProcessGroup
{
    private const string JoinRequests = "join/requests", JoinAdmitted = "join/admitted", JoinAnnounced = "join/announced";

    private TCPStore _rendezvous;
    private bool _ownsRendezvous;

    /// <summary>Number of times the group was re-formed (see <see cref="Reform"/> and <see cref="Admit"/>).</summary>
    public int generation { get; private init; }

    /// <summary>The rank this process had when the job started; it keeps it across re-formations and orders their members.</summary>
    public int initial_rank { get; private init; }

    /// <summary>For a re-formed group, the rank each member had in the group it came from (−1 for a restarted rank), by new rank; otherwise empty.</summary>
    public IReadOnlyList<int> previous_ranks { get; private init; } = [];

    /// <summary>
    /// After a collective failed because a rank died or stalled: the ranks still alive meet again on the rendezvous
    /// store and form a group of the survivors, renumbered in the order of their initial ranks. Each rank first closes
    /// its connections of the old group, so that peers still waiting in a collective fail at once instead of at their
    /// timeout; the round is then sealed by the first rank that has seen no new arrival for <paramref name="settle"/>
    /// (default 2 s), and a rank arriving after the seal is refused. The old group is unusable afterwards; the new one
    /// takes over the store. Fails with a <see cref="DistributedException"/> when the round does not close within the
    /// group's timeout — for instance when the store's host itself is gone (launch with an agent-hosted store, as
    /// <see cref="LocalLauncher"/> does, so that any rank may die).
    /// </summary>
    public ProcessGroup Reform(TimeSpan? settle = null)
    {
        TimeSpan quiet = settle ?? TimeSpan.FromSeconds(2);
        var clock = Stopwatch.StartNew();
        string round = Leave();
        long ticket = Enter(_rendezvous, round, initial_rank, rank);
        if (!_rendezvous.check(round + "size"))
        {
            long seen = WaitUntilQuiet(round + "joined", ticket, quiet, clock, round + "size");
            if (_rendezvous.add(round + "seal", 1) == 1) _rendezvous.set(round + "size", seen.ToString(CultureInfo.InvariantCulture));
        }
        return Form(round, ticket);
    }

    /// <summary>
    /// Restarted ranks waiting to come back (<see cref="rejoin"/>) or announced by the launcher that restarted them,
    /// that no group has admitted yet. Read it on rank 0 and share the answer (e.g. by an all-reduce), since the ranks
    /// must agree on calling <see cref="Admit"/>.
    /// </summary>
    public int pending_joins()
    {
        long wanting = Math.Max(_rendezvous.add(JoinRequests, 0), _rendezvous.add(JoinAnnounced, 0));
        return checked((int)(wanting - _rendezvous.add(JoinAdmitted, 0)));
    }

    // The launcher counts a rank it restarts before the process is up, so that the running group admits it at its next
    // chance and waits for it there, instead of racing a slow process start (and finishing the job without it).
    internal static void AnnounceRestart(TCPStore store) => store.add(JoinAnnounced, 1);

    /// <summary>
    /// Every rank of this group calls it together: forms a new group of this group's ranks and the first
    /// <paramref name="joiners"/> restarted ranks waiting in <see cref="rejoin"/>, ordered by initial rank. The old
    /// group is unusable afterwards.
    /// </summary>
    public ProcessGroup Admit(int joiners)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(joiners);
        var clock = Stopwatch.StartNew();
        string round = Leave();
        if (rank == 0)
        {
            long first = _rendezvous.add(JoinAdmitted, joiners) - joiners + 1;
            for (long t = first; t < first + joiners; t++) _rendezvous.set($"join/{t}", round);
        }
        long ticket = Enter(_rendezvous, round, initial_rank, rank);
        if (rank == 0)
        {
            long expected = world_size + joiners;
            while (_rendezvous.add(round + "joined", 0) < expected) Pause(clock, timeout, rank, "waiting for the restarted ranks to arrive");
            _rendezvous.set(round + "size", expected.ToString(CultureInfo.InvariantCulture));
        }
        return Form(round, ticket);
    }

    /// <summary>
    /// A restarted rank's way back into a running elastic job: asks to join on the job's rendezvous store (from
    /// <paramref name="environment"/>, whose rank is the initial rank it had) and waits — up to
    /// <paramref name="timeout"/> (default 5 minutes) — until the running group admits it (<see cref="Admit"/>, which an
    /// elastic <c>DistributedLte</c> does at its next merge). The store must outlive the ranks (an agent store).
    /// </summary>
    public static ProcessGroup rejoin(string backend = "gloo", TimeSpan? timeout = null, DistributedEnvironment? environment = null)
    {
        DistributedEnvironment env = environment ?? DistributedEnvironment.FromEnvironment();
        TimeSpan limit = timeout ?? TimeSpan.FromMinutes(5);
        var store = new TCPStore(env.MasterAddress, env.MasterPort, is_server: false, limit);
        try
        {
            long request = store.add(JoinRequests, 1);
            string round = store.get_string($"join/{request}");
            long ticket = Enter(store, round, env.Rank, previousRank: -1);
            return Form(store, round, ticket, env.Rank, backend, limit, env.GlooInterface, GlooHostname(env.GlooInterface, env.MasterAddress), ownsRendezvous: true);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    // Closes this group's connections and names the next round.
    private string Leave()
    {
        IntPtr old = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (old != IntPtr.Zero) Native.NativeMethods.lrb_process_group_free(old);
        return $"reform/{generation + 1}/";
    }

    private static long Enter(TCPStore store, string round, int initialRank, int previousRank)
    {
        long ticket = store.add(round + "joined", 1);
        store.set(round + $"rank/{ticket}", string.Create(CultureInfo.InvariantCulture, $"{initialRank},{previousRank}"));
        return ticket;
    }

    private ProcessGroup Form(string round, long ticket)
    {
        ProcessGroup group = Form(_rendezvous, round, ticket, initial_rank, backend, timeout, _glooInterface, _glooHostname, _ownsRendezvous);
        // The new group takes the rendezvous store over: disposing this one must no longer close it.
        if (ReferenceEquals(_store, _rendezvous)) _ownsStore = false;
        _ownsRendezvous = false;
        return group;
    }

    // Waits for the round's size, then forms the group of its members ordered by initial rank.
    private static ProcessGroup Form(TCPStore rendezvous, string round, long ticket, int initialRank, string backend, TimeSpan timeout,
        string? glooInterface, string? glooHostname, bool ownsRendezvous)
    {
        long size = long.Parse(rendezvous.get_string(round + "size"), CultureInfo.InvariantCulture);
        if (ticket > size)
            throw new DistributedException($"initial rank {initialRank}: arrived at round {round} after its {size} members had formed their group without it");
        (int initial, int previous)[] members = Enumerable.Range(1, (int)size)
            .Select(t => rendezvous.get_string(round + $"rank/{t}").Split(','))
            .Select(p => (int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture)))
            .OrderBy(m => m.Item1).ToArray();
        if (members.Select(m => m.initial).Distinct().Count() != members.Length)
            throw new DistributedException($"round {round}: two members claim the same initial rank ({string.Join(", ", members.Select(m => m.initial))})");
        int generation = int.Parse(round.Split('/')[1], CultureInfo.InvariantCulture);
        TCPStore store = rendezvous.WithPrefix(round + "group/");
        try
        {
            var group = new ProcessGroup(backend, store, Array.FindIndex(members, m => m.initial == initialRank), members.Length, timeout, glooInterface, glooHostname, ownsStore: true)
            {
                generation = generation,
                initial_rank = initialRank,
                previous_ranks = members.Select(m => m.previous).ToArray(),
            };
            group._rendezvous = rendezvous;
            group._ownsRendezvous = ownsRendezvous;
            return group;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    // Waits until the counter stops changing for `quiet` (or another rank sealed the round), and returns its value.
    private long WaitUntilQuiet(string key, long seen, TimeSpan quiet, Stopwatch clock, string sealedKey)
    {
        var still = Stopwatch.StartNew();
        while (still.Elapsed < quiet && !_rendezvous.check(sealedKey))
        {
            Pause(clock, timeout, rank, "waiting for the survivors to arrive");
            long now = _rendezvous.add(key, 0);
            if (now != seen) (seen, still) = (now, Stopwatch.StartNew());
        }
        return seen;
    }

    private static void Pause(Stopwatch clock, TimeSpan timeout, int rank, string what)
    {
        if (clock.Elapsed > timeout) throw new DistributedException($"rank {rank}: re-forming the group timed out after {timeout.TotalSeconds:0.#} s, {what}");
        Thread.Sleep(50);
    }
}
