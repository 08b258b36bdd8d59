using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Distributed;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Lte;

/// <summary>
/// LoRA-the-Explorer over a c10d <see cref="ProcessGroup"/> (LTE paper §4.5): the N heads are split evenly among the
/// ranks — rank r holds heads r·k … r·k + k − 1, k = N / world size, batched as in <see cref="Lte"/> — and train with
/// no communication between merges. A merge folds each rank's heads locally, then all-reduces what the fold changed
/// (the summed low-rank updates and replica offsets), so every rank ends with the same main weights
/// W + (s/N) Σₙ BₙAₙ and averaged replicas. At start-up the ranks check that they were given the same options and
/// model (before and after adaptation), rank 0's weights are broadcast (as DDP does), and the heads are drawn with <see cref="Lte.ReseedHeads(ulong)"/>,
/// so with the same seed a run reproduces the single-device simulation of N heads. Heads re-drawn at merges
/// (<see cref="LteOptions.ReinitializeA"/>) come from each rank's own generator. Train it with <see cref="DistributedLteTrainer"/>.
/// </summary>
public sealed class DistributedLte
{
    private readonly Tensor[] _merged;
    private readonly (MultiHeadLoraLinear lora, Tensor weight)[] _gathered;
    private readonly Tensor[] _shared;
    private readonly object _fingerprint;
    private bool _ownsGroup;

    /// <summary>Adapts <paramref name="model"/> (in place) to hold this rank's share of the heads.</summary>
    /// <param name="model">The plain model, built the same way on every rank.</param>
    /// <param name="options">The LTE options of the whole run (<see cref="LteOptions.Heads"/> = N, a multiple of the world size).</param>
    /// <param name="group">The process group; every rank calls this constructor. A restarted rank of an elastic job
    /// passes the group <see cref="ProcessGroup.rejoin"/> gave it: it then receives the running job's weights, its share
    /// of heads and the merge count, and takes back the heads of its initial rank.</param>
    /// <param name="head_seed">Seed of the heads' initial A factors (see <see cref="Lte.ReseedHeads(ulong)"/>); the same on every rank.</param>
    public DistributedLte(Module model, LteOptions options, ProcessGroup group, ulong head_seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(group);
        options.Validate();
        if (options.BaseQuantization is not null)
            throw new NotSupportedException("DistributedLte does not support quantized base weights yet (LteOptions.BaseQuantization); use the single-device Lte");
        if (options.RankPolicy is not null)
            throw new NotSupportedException("DistributedLte does not support rank per layer yet (LteOptions.RankPolicy); use the single-device Lte");
        if (group.generation == 0 && options.Heads % group.world_size != 0)
            throw new ArgumentException($"{options.Heads} heads cannot be split evenly among {group.world_size} ranks; use a multiple of the world size", nameof(options));
        _fingerprint = Fingerprint(model, options, head_seed);
        _shared = model.parameters().Concat(model.buffers()).ToArray();
        this.group = group;
        this.options = options;
        (Merges, local_heads, MergedAt) = Synchronize(group.generation == 0 ? options.Heads / group.world_size : 0);
        first_head = group.initial_rank * local_heads;
        local = new Lte(model, options with { Heads = local_heads, MergeEvery = 0 });
        local.ReseedHeads(head_seed, first_head);
        CheckSameAdaptation();
        // Layers whose factors are smaller than their weight send the factors (all-gather): per rank (W − 1)·k·r·(m + n)
        // against 2(W − 1)/W·m·n for an all-reduce of the update, i.e. when N·r·(m + n) < 2·m·n. Everything else a local
        // merge writes — the other weights, biases, replicas' shared values — travels as an all-reduce of its change.
        _gathered = options.MergeMode != LteMergeMode.Reset ? [] : local.lora_layers()
            .Select(l => l.layer).OfType<MultiHeadLoraLinear>()
            .Select(layer => (layer, weight: layer.weight))
            .Where(l => options.Heads * options.Rank * (l.weight.size(0) + l.weight.size(1)) < 2 * l.weight.size(0) * l.weight.size(1))
            .ToArray();
        var gatheredWeights = new HashSet<Tensor>(_gathered.Select(g => g.weight), ReferenceEqualityComparer.Instance);
        _merged = local.model.parameters().Where(p => !p.requires_grad && !gatheredWeights.Contains(p)).ToArray();
    }

    /// <summary>This rank's part of the model: <see cref="local_heads"/> heads, merging only when told to.</summary>
    public Lte local { get; }

    /// <summary>The options of the whole run.</summary>
    public LteOptions options { get; }

    /// <summary>The process group the merges run over (a re-formed one after a failure, with <see cref="Elastic"/>).</summary>
    public ProcessGroup group { get; private set; }

    /// <summary>
    /// Survive ranks that die or stall: when a merge's collective fails, this rank's state is rolled back to before
    /// the merge, the survivors re-form their group (<see cref="ProcessGroup.Reform"/>) and merge again over the heads
    /// that are left — the dead ranks' heads are dropped, so W ← W + (s/N′) Σ over the N′ surviving heads — and
    /// training goes on. Without it the failure is raised. Default false.
    /// </summary>
    public bool Elastic { get; init; }

    /// <summary>Heads that take part in merges: N, or fewer after ranks were lost.</summary>
    public int heads_alive => group.world_size * local_heads;

    /// <summary>Raised on every rank whose group was re-formed — after a failure, or to admit restarted ranks — with the new
    /// group (its <see cref="ProcessGroup.previous_ranks"/> tell who came from where). This model owns re-formed groups and
    /// disposes each when it is replaced; the caller disposes the last one, <see cref="group"/>, and its own.</summary>
    public event Action<ProcessGroup>? Reformed;

    /// <summary>Number of heads on this rank, k = N / world size.</summary>
    public int local_heads { get; }

    /// <summary>Global index of this rank's first head.</summary>
    public int first_head { get; }

    /// <summary>After each merge, check with a collective that every rank holds bit-identical main weights (debug mode; one extra small all-gather).</summary>
    public bool VerifyMerges { get; init; }

    /// <summary>Merges done so far.</summary>
    public long Merges { get; private set; }

    // The training step at which the last merge ran (set by the trainer before it merges): where a restarted rank goes on.
    internal long MergedAt { get; set; }

    /// <summary>
    /// This rank's rows of a cumulative batch of B samples (the same on every rank): rows first_head·B/N … for
    /// <see cref="HeadSampling.Split"/>, all of them for <see cref="HeadSampling.Same"/>. A view; owned by the caller.
    /// </summary>
    public Tensor ShareOf(Tensor cumulative)
    {
        ArgumentNullException.ThrowIfNull(cumulative);
        if (options.Sampling == HeadSampling.Same) return cumulative.alias();
        long batch = cumulative.size(0);
        if (batch % options.Heads != 0)
            throw new ArgumentException($"a cumulative batch of {batch} samples cannot be split evenly among {options.Heads} heads", nameof(cumulative));
        long share = batch / options.Heads;
        return cumulative.narrow(0, first_head * share, local_heads * share);
    }

    /// <summary>
    /// Folds every rank's heads into the main weights: each rank folds its own, then the changes are summed over
    /// the ranks (one all-reduce per dtype) and averaged, so W ← W + (s/N) Σₙ BₙAₙ on every rank; heads restart
    /// as in <see cref="Lte.Merge"/>. Every rank must call it at the same step.
    /// </summary>
    public void Merge()
    {
        if (!Elastic)
        {
            MergeOnce();
            return;
        }
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor[] state = local.parameters().Concat(local.buffers()).ToArray();
        Tensor[] saved = Array.ConvertAll(state, t => t.clone());
        long merges = Merges;
        int joiners;
        while (true)
        {
            try
            {
                MergeOnce();
                joiners = PendingJoins();
                break;
            }
            catch (DistributedException) when (group.world_size > 1)
            {
                for (int i = 0; i < state.Length; i++) state[i].copy_(saved[i]);
                Merges = merges;
                Replace(group.Reform());
            }
        }
        if (joiners == 0) return;
        Replace(group.Admit(joiners));
        Synchronize(local_heads);
        CheckSameAdaptation();
    }

    // Rank 0 looks whether restarted ranks wait to come back; every rank follows its answer.
    private int PendingJoins()
    {
        using Tensor pending = torch.tensor(new long[] { group.rank == 0 ? group.pending_joins() : 0 });
        group.all_reduce(pending, ReduceOp.MAX);
        return (int)pending.item<long>();
    }

    private void Replace(ProcessGroup next)
    {
        if (_ownsGroup) group.Dispose();
        (group, _ownsGroup) = (next, true);
        Reformed?.Invoke(group);
    }

    // Start-up, and the admission of restarted ranks: the same configuration everywhere, then rank 0's merge count,
    // heads per rank, the step of the last merge and main weights (shared values of replicas included) broadcast to
    // all, as DDP does at start.
    private (long merges, int localHeads, long mergedAt) Synchronize(int localHeads)
    {
        group.CheckSameConfiguration("LTE configuration", _fingerprint);
        // The source is the first member that was already training: a restarted rank may now be rank 0.
        int source = group.previous_ranks.Count == 0 ? 0 : group.previous_ranks.ToList().FindIndex(r => r >= 0);
        if (source < 0) throw new DistributedException($"rank {group.rank}: no member of the group was already training; there are no weights to take");
        using var noGrad = torch.no_grad();
        using Tensor counters = torch.tensor(new long[] { Merges, localHeads, MergedAt });
        group.broadcast(counters, src: source);
        foreach (Tensor t in _shared) group.broadcast(t, src: source);
        long[] values = counters.ToArray<long>();
        return (values[0], (int)values[1], values[2]);
    }

    // The layers the options picked, as adapted: ranks whose models look alike before adaptation but differ in what it
    // adapts (a layer that is a Linear on one rank only) would otherwise merge tensors that do not correspond.
    private void CheckSameAdaptation() => group.CheckSameConfiguration("LTE adapted model", new { Model = ModelFingerprint.Of(local.model) });

    private void MergeOnce()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        (Tensor a, Tensor b)[] factors = GatherFactors();
        Tensor[] before = Array.ConvertAll(_merged, p => p.clone());
        Tensor[] gatheredBefore = _gathered.Select(g => g.weight.clone()).ToArray();
        local.Merge();
        for (int i = 0; i < _gathered.Length; i++) FoldAllHeads(_gathered[i].lora, _gathered[i].weight, gatheredBefore[i], factors[i]);
        Tensor[] deltas = _merged.Select((p, i) => p - before[i]).ToArray();
        // Ranks agree on which tensors changed anywhere (one tiny all-reduce), then only those travel.
        Tensor changedAnywhere = torch.stack(deltas.Select(d => (d != 0).any().to(ScalarType.Float32)).ToArray());
        group.all_reduce(changedAnywhere, ReduceOp.MAX);
        float[] changed = changedAnywhere.ToArray<float>();
        foreach (IGrouping<ScalarType, int> sameType in Enumerable.Range(0, deltas.Length).Where(i => changed[i] > 0).GroupBy(i => deltas[i].dtype))
        {
            int[] members = sameType.ToArray();
            Tensor flat = torch.cat(members.Select(i => deltas[i].reshape(-1)).ToArray());
            group.all_reduce(flat);
            flat.div_(group.world_size);
            long offset = 0;
            foreach (int i in members)
            {
                long n = deltas[i].numel();
                _merged[i].copy_(before[i] + flat.narrow(0, offset, n).view(deltas[i].shape));
                offset += n;
            }
        }
        Merges++;
        if (VerifyMerges) Verify();
    }

    // Every rank's A [k, r, in] and B [k, out, r] of the gathered layers, in one all-gather, as [N, …] in head order.
    private (Tensor a, Tensor b)[] GatherFactors()
    {
        if (_gathered.Length == 0) return [];
        Tensor[] all = Gather(_gathered.SelectMany(g => new[] { g.lora.lora_A[LteSite.Adapter], g.lora.lora_B[LteSite.Adapter] }).ToArray());
        return Enumerable.Range(0, _gathered.Length).Select(i => (all[2 * i], all[2 * i + 1])).ToArray();
    }

    // Tensors [k, …] of this rank's heads from every rank, in one all-gather: [N, …] each, in head order.
    private Tensor[] Gather(Tensor[] mine)
    {
        Tensor all = group.all_gather(torch.cat(mine.Select(t => t.reshape(-1)).ToArray()));
        long offset = 0;
        var result = new Tensor[mine.Length];
        for (int i = 0; i < mine.Length; i++)
        {
            result[i] = all.narrow(1, offset, mine[i].numel()).reshape([heads_alive, .. mine[i].shape.Skip(1)]);
            offset += mine[i].numel();
        }
        return result;
    }

    /// <summary>
    /// The heads' updates of every rank seen together (one all-gather of the factors, coefficients of the float64
    /// kind promoted), identical on every rank: what the merge controller and head resets decide from. Every rank
    /// calls it at the same step; an <see cref="Elastic"/> group that loses ranks re-forms and gathers again.
    /// </summary>
    internal HeadGeometry Geometry()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var layers = local.Sites().Select(s => s.UpdateFactors()).OfType<(Tensor a, Tensor b, Tensor coefficient, Tensor weight)>().ToArray();
        while (true)
        {
            try
            {
                Tensor[] all = Gather(layers.SelectMany(l => new[] { l.a.to(ScalarType.Float64), l.b.to(ScalarType.Float64), l.coefficient }).ToArray());
                return HeadGeometry.Of(layers.Select((l, i) => (all[3 * i], all[3 * i + 1], all[3 * i + 2], l.weight)).ToArray(), heads_alive, group.rank * local_heads);
            }
            catch (DistributedException) when (Elastic && group.world_size > 1)
            {
                Replace(group.Reform());
            }
        }
    }

    // W ← W + (s/N) Σₙ BₙAₙ over all N heads, computed as the single-device merge computes it.
    private void FoldAllHeads(MultiHeadLoraLinear lora, Tensor weight, Tensor before, (Tensor a, Tensor b) factors)
    {
        (Tensor a, Tensor b) = factors;
        long heads = a.size(0), rank = a.size(1);
        Tensor coefficient = torch.full([heads * rank], lora.scaling[LteSite.Adapter], a.dtype, a.device);
        Tensor update = (b.permute(1, 0, 2).reshape(b.size(1), heads * rank) * coefficient).mm(a.reshape(heads * rank, a.size(2))) * (1.0 / heads);
        weight.copy_(before.to(update.dtype) + update);
    }

    private void Verify()
    {
        Tensor digest = torch.stack(_merged.Select((p, i) => (p.to(ScalarType.Float64) * (i + 1.0)).sum()).ToArray());
        Tensor all = group.all_gather(digest);
        Tensor spread = (all - digest.unsqueeze(0)).abs().max();
        if (spread.item<double>() != 0)
            throw new DistributedException($"rank {group.rank}: main weights differ between ranks after merge {Merges} (checksum spread {spread.item<double>():G3})");
    }

    // Same model and same options on every rank: every property of the options record (found by reflection, so a new
    // option is checked too), the head seed and the model. Enums and target rules are compared by name, the rest as
    // JSON (nested records field by field).
    private static Dictionary<string, object?> Fingerprint(Module model, LteOptions options, ulong seed)
    {
        var fields = typeof(LteOptions).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .ToDictionary(p => p.Name, p => Comparable(p.GetValue(options)));
        fields["HeadSeed"] = seed;
        fields["Model"] = ModelFingerprint.Of(model);
        return fields;

        static object? Comparable(object? value) => value is Enum or ModuleSelector ? value.ToString() : value;
    }
}
