using System.Diagnostics;
using System.Globalization;

namespace LowRankBias.Torch.Distributed;

public sealed partial class ProcessGroup
{
    private TCPStore _rendezvous;
    private bool _ownsRendezvous;

    /// <summary>
    /// After a collective failed because a rank died or stalled: the ranks still alive meet again on the rendezvous
    /// store (a new round, keyed by <see cref="generation"/>) and form a group of the survivors, renumbered in the
    /// order of their old ranks. Each rank first closes its connections of the old group, so that peers still
    /// waiting in a collective fail at once instead of at their timeout; the round is then sealed by the first rank
    /// that has seen no new arrival for <paramref name="settle"/> (default 2 s), and a rank arriving after the seal is
    /// refused. The old group is unusable afterwards; the new one takes over the store. Fails with a
    /// <see cref="DistributedException"/> when the round does not close within the group's timeout — for instance
    /// when the store's host itself is gone (launch with an agent-hosted store, as <see cref="LocalLauncher"/> does,
    /// so that any rank may die).
    /// </summary>
    public ProcessGroup Reform(TimeSpan? settle = null)
    {
        TimeSpan quiet = settle ?? TimeSpan.FromSeconds(2);
        IntPtr old = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (old != IntPtr.Zero) Native.NativeMethods.lrb_process_group_free(old);
        int next = generation + 1;
        string round = $"reform/{next}/";
        var clock = Stopwatch.StartNew();
        long ticket = _rendezvous.add(round + "joined", 1);
        _rendezvous.set(round + $"rank/{ticket}", rank.ToString(CultureInfo.InvariantCulture));
        if (!_rendezvous.check(round + "size"))
        {
            long seen = WaitUntilQuiet(round + "joined", ticket, quiet, clock, round + "size");
            if (_rendezvous.add(round + "seal", 1) == 1) _rendezvous.set(round + "size", seen.ToString(CultureInfo.InvariantCulture));
        }
        long joined = long.Parse(_rendezvous.get_string(round + "size"), CultureInfo.InvariantCulture);
        if (ticket > joined)
            throw new DistributedException($"rank {rank}: arrived at round {next} after the {joined} survivors had re-formed their group without it");
        int[] survivors = Enumerable.Range(1, (int)joined)
            .Select(t => int.Parse(_rendezvous.get_string(round + $"rank/{t}"), CultureInfo.InvariantCulture))
            .Order().ToArray();
        TCPStore store = _rendezvous.WithPrefix(round + "group/");
        ProcessGroup group;
        try
        {
            group = new ProcessGroup(backend, store, Array.IndexOf(survivors, rank), survivors.Length, timeout, _glooInterface, _glooHostname, ownsStore: true)
            {
                generation = next,
                previous_ranks = survivors,
            };
        }
        catch
        {
            store.Dispose();
            throw;
        }
        group._rendezvous = _rendezvous;
        group._ownsRendezvous = _ownsRendezvous;
        _ownsRendezvous = false;
        return group;
    }

    /// <summary>For a re-formed group, the rank each member had in the group it came from, by new rank; otherwise empty.</summary>
    public IReadOnlyList<int> previous_ranks { get; private init; } = [];

    // Waits until the counter stops changing for `quiet` (or another rank sealed the round), and returns its value.
    private long WaitUntilQuiet(string key, long seen, TimeSpan quiet, Stopwatch clock, string sealedKey)
    {
        var still = Stopwatch.StartNew();
        while (still.Elapsed < quiet && !_rendezvous.check(sealedKey))
        {
            Pause(clock, "waiting for the survivors to arrive");
            long now = _rendezvous.add(key, 0);
            if (now != seen) (seen, still) = (now, Stopwatch.StartNew());
        }
        return seen;
    }

    private void Pause(Stopwatch clock, string what)
    {
        if (clock.Elapsed > timeout) throw new DistributedException($"rank {rank}: re-forming the group timed out after {timeout.TotalSeconds:0.#} s, {what}");
        Thread.Sleep(50);
    }
}
