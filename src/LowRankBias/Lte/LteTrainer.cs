using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Training;

namespace LowRankBias.Lte;

/// <summary>
/// LTE's training loop on one device. Each <see cref="Step"/> takes one cumulative batch of B samples, gives each head
/// its share (B/N consecutive samples, or all B with <see cref="HeadSampling.Same"/>), and minimises Σₙ Lₙ where Lₙ is
/// the loss function's value on head n's samples: head n's gradient is exactly that of a lone LoRA model trained on
/// its share. Each head is then clipped on its own (<see cref="LteOptions.MaxGradNorm"/>) and updated by the
/// optimizer; since every trained tensor is stacked per head and the optimizer is element-wise, head n has its own
/// optimizer state, as with N separate optimizers. Every <see cref="LteOptions.MergeEvery"/> steps — or when the merge
/// controller <see cref="LteOptions.AdaptiveMerge"/> decides — the heads are merged (and with
/// <see cref="LteOptions.ResetOptimizer"/> their optimizer state cleared). Iterations count
/// cumulative batches, as in the paper. Each step runs in its own dispose scope. A step whose gradients hold NaN or ±∞
/// (NaN input, a diverging rate) changes no weight and throws a <see cref="NonFiniteLossException"/> naming the head whose
/// loss is not finite, or a <see cref="NonFiniteGradientException"/> naming the head and parameter; this is the
/// optimizer's <see cref="Optimizer.error_if_nonfinite"/> check (set it false to opt out).
/// </summary>
public sealed partial class LteTrainer
{
    private readonly Func<Tensor, Tensor, Tensor> _loss;
    private readonly MergeSchedule _schedule;
    private readonly Action _fold;
    private readonly Func<HeadGeometry> _geometry;

    /// <summary>
    /// Trains <paramref name="model"/> with <paramref name="optimizer"/> (which must hold exactly the model's
    /// <see cref="Lte.head_parameters"/>, e.g. <c>new AdamW(model.ParameterGroups(options))</c>); the optional
    /// <paramref name="scheduler"/> steps once per cumulative batch. <paramref name="loss"/>(output, target) must
    /// return the mean loss of the samples it is given.
    /// </summary>
    public LteTrainer(Lte model, Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss, LRScheduler? scheduler = null)
        : this(model, optimizer, loss, scheduler, model?.options!, fold: null, geometry: null)
    {
    }

    // The trainer of one rank of a distributed run: merges on the run's schedule (its local model never merges by
    // itself), `fold` is the merge over the group and `geometry` sees the heads of every rank.
    internal LteTrainer(Lte model, Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss, LRScheduler? scheduler, LteOptions schedule,
        Action? fold, Func<HeadGeometry>? geometry)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        if (scheduler is not null && !ReferenceEquals(scheduler.optimizer, optimizer))
            throw new ArgumentException("the scheduler drives a different optimizer", nameof(scheduler));
        var held = new HashSet<Tensor>(optimizer.param_groups.SelectMany(g => g.@params), ReferenceEqualityComparer.Instance);
        Tensor[] trained = model.head_parameters().ToArray();
        if (held.Count != trained.Length || !trained.All(held.Contains))
            throw new ArgumentException($"the optimizer must hold exactly the LTE model's {trained.Length} head parameters (it holds {held.Count} tensors); build it from model.ParameterGroups(...)", nameof(optimizer));
        this.model = model;
        this.optimizer = optimizer;
        this.scheduler = scheduler;
        _loss = loss;
        _fold = fold ?? model.Merge;
        _geometry = geometry ?? model.Geometry;
        _schedule = new MergeSchedule(schedule, _geometry);
    }

    /// <summary>The model being trained.</summary>
    public Lte model { get; }

    /// <summary>The optimizer of every head.</summary>
    public Optimizer optimizer { get; }

    /// <summary>The learning-rate schedule, if any.</summary>
    public LRScheduler? scheduler { get; }

    /// <summary>Cumulative batches trained so far.</summary>
    public long Iteration { get; internal set; }

    /// <summary>Merges done so far.</summary>
    public long Merges { get; private set; }

    /// <summary>Heads re-seeded so far (<see cref="LteOptions.ReseedAbove"/>), over all ranks.</summary>
    public long HeadResets { get; private set; }

    /// <summary>The heads' statistics the merge controller (<see cref="LteOptions.AdaptiveMerge"/>) last computed, or null.</summary>
    public LteHeadStatistics? LastStatistics => _schedule.Last;

    /// <summary>Steps trained since the last merge: the merge controller's state.</summary>
    public long StepsSinceMerge => _schedule.SinceMerge;

    /// <summary>The per-head gradient norms of the last step, before clipping (empty without <see cref="LteOptions.MaxGradNorm"/>).</summary>
    public IReadOnlyList<double> LastHeadGradNorms { get; private set; } = [];

    /// <summary>
    /// Trains one cumulative batch (<paramref name="input"/> and <paramref name="target"/> with the batch first) and
    /// returns the mean of the heads' losses. Merges afterwards when the schedule says so (a multiple of T, or the controller).
    /// Reading the loss waits for the device; <see cref="StepOnDevice"/> does not.
    /// </summary>
    public double Step(Tensor input, Tensor target)
    {
        using Tensor loss = StepOnDevice(input, target);
        return loss.item<double>();
    }

    /// <summary>
    /// <see cref="Step"/> without reading the loss: the mean of the heads' losses stays a float64 scalar tensor on the
    /// model's device (owned by the caller). The optimizer's non-finite check (<see cref="Optimizer.error_if_nonfinite"/>)
    /// reads one flag and per-head clipping (<see cref="LteOptions.MaxGradNorm"/>) the heads' norms; with neither, a CUDA
    /// step is queued without waiting for it.
    /// </summary>
    public Tensor StepOnDevice(Tensor input, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (model.evaluating)
            throw new InvalidOperationException("training steps are not allowed inside Lte.Evaluating(): the base weights hold the temporary merged model; dispose the evaluation scope first");
        if (!model.training) throw new InvalidOperationException("the LTE model is in evaluation mode; call model.train() before training steps");
        int heads = model.heads;
        long batch = input.size(0);
        if (batch == 0) throw new ArgumentException("the cumulative batch is empty: each head needs at least one sample (the mean loss of none is NaN)", nameof(input));
        if (target.size(0) != batch) throw new ArgumentException($"input has {batch} samples but target has {target.size(0)}", nameof(target));
        bool same = model.options.Sampling == HeadSampling.Same;
        if (!same && batch % heads != 0)
            throw new ArgumentException($"a cumulative batch of {batch} samples cannot be split evenly among {heads} heads", nameof(input));
        Tensor mean;
        using (var scope = torch.NewDisposeScope())
        {
            optimizer.zero_grad();
            Tensor x = same ? Repeated(input, heads) : input;
            Tensor y = same ? Repeated(target, heads) : target;
            Tensor output = model.call(x);
            long share = x.size(0) / heads;
            Tensor[] losses = Enumerable.Range(0, heads)
                .Select(n => _loss(output.narrow(0, n * share, share), y.narrow(0, n * share, share))).ToArray();
            Tensor total = losses.Aggregate((a, b) => a + b);
            total.backward();
            if (model.options.MaxGradNorm is { } max) LastHeadGradNorms = model.ClipGradNormPerHead(max);
            try
            {
                optimizer.step();
            }
            catch (NonFiniteGradientException e)
            {
                throw NonFiniteHead(e, losses);
            }
            mean = (total.detach().to(ScalarType.Float64) / heads).MoveToOuterDisposeScope();
        }
        scheduler?.step();
        Iteration++;
        if (_schedule.Due(Iteration)) Merge();
        return mean;
    }

    /// <summary>Merges now (see <see cref="Lte.Merge"/>), clears (<see cref="LteOptions.ResetOptimizer"/>) or prunes
    /// (<see cref="LteOptions.PruneOptimizer"/>) the LoRA factors' optimizer state, sets each layer's next head rank
    /// (<see cref="LteOptions.RankPolicy"/>) and re-seeds collapsed heads (<see cref="LteOptions.ReseedAbove"/>), both
    /// judged on the updates before the merge.</summary>
    public void Merge()
    {
        HeadGeometry? before = model.options.ReseedAbove is null ? null : _geometry();
        double[]? effectiveRanks = model.options.RankPolicy is null ? null : UpdateEffectiveRanks();
        _fold();
        Merges++;
        _schedule.Merged();
        OptimizerState.AfterMerge(optimizer, model.factor_parameters(), model.options);
        if (effectiveRanks is not null) AdaptRanks(model.options.RankPolicy!, effectiveRanks);
        if (before is null) return;
        foreach (int head in before.Collapsed(model.options.ReseedAbove!.Value))
        {
            HeadResets++;
            int local = head - before.First;
            if (local < 0 || local >= model.heads) continue; // another rank's head
            model.RedrawHead(local);
            OptimizerState.ClearHead(optimizer, model.factor_parameters(), local);
        }
    }

    // The optimizer refused a NaN/±∞ gradient (Optimizer.error_if_nonfinite) before changing any weight: names the first
    // head whose loss is not finite, or else the first head whose share of the offending gradient is not.
    private Exception NonFiniteHead(NonFiniteGradientException e, Tensor[] losses)
    {
        long iteration = Iteration + 1;
        string stopped = $"; training stopped before the update, so the weights are those after iteration {Iteration}. Lower " +
            "the learning rate, set LteOptions.MaxGradNorm, or set optimizer.error_if_nonfinite = false to apply such steps";
        double[] values = losses.Select(l => l.detach().to(ScalarType.Float64).item<double>()).ToArray();
        int head = Array.FindIndex(values, v => !double.IsFinite(v));
        if (head >= 0) return new NonFiniteLossException($"iteration {iteration}: head {head}'s loss is {values[head]}{stopped}", iteration, values[head]);
        Tensor parameter = optimizer.param_groups.SelectMany(g => g.@params).ElementAt(e.Parameter);
        string name = model.named_parameters().First(p => ReferenceEquals(p.parameter, parameter)).name;
        Tensor perHead = parameter.grad!.reshape(model.heads, -1); // in the step's dispose scope
        head = Enumerable.Range(0, model.heads).First(n => !perHead.select(0, n).isfinite().all().item<bool>());
        return new NonFiniteGradientException($"iteration {iteration}: head {head}'s gradient of '{name}' is NaN or ±∞{stopped}", e.Parameter, e);
    }

    private static Tensor Repeated(Tensor t, int heads)
    {
        long[] repeats = Enumerable.Repeat(1L, (int)t.dim()).ToArray();
        repeats[0] = heads;
        return t.repeat(repeats);
    }
}
