namespace LowRankBias.Torch.Optim;

/// <summary>
/// Base of the learning-rate schedulers (PyTorch's <c>torch.optim.lr_scheduler</c>). Each scheduler is a closed
/// form lr(epoch, base_lr): construction sets epoch 0's rates, every <see cref="step"/> advances one epoch and
/// writes the new rate into each group, so resuming from a saved epoch gives exactly the same rates.
/// </summary>
public abstract class LRScheduler
{
    private readonly Func<long, double, double> _schedule;
    private double[] _baseLrs;
    private double[] _lastLrs = [];

    /// <summary>Schedules <paramref name="optimizer"/>'s groups from their current rates by <paramref name="schedule"/>(epoch, base_lr).</summary>
    protected LRScheduler(Optimizer optimizer, Func<long, double, double> schedule)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        this.optimizer = optimizer;
        _schedule = schedule;
        _baseLrs = optimizer.param_groups.Select(g => g.lr).ToArray();
        Apply();
    }

    /// <summary>The scheduled optimizer.</summary>
    public Optimizer optimizer { get; }

    /// <summary>Epochs (calls to <see cref="step"/>) so far.</summary>
    public long last_epoch { get; private set; }

    /// <summary>Each group's rate at epoch 0.</summary>
    public IReadOnlyList<double> base_lrs => _baseLrs;

    /// <summary>Advances one epoch and sets each group's rate.</summary>
    public void step()
    {
        last_epoch++;
        Apply();
    }

    /// <summary>The rates this scheduler last set, one per group.</summary>
    public double[] get_last_lr() => (double[])_lastLrs.Clone();

    /// <summary>The epoch and base rates, enough to continue exactly.</summary>
    public SchedulerState state_dict() => new() { last_epoch = last_epoch, base_lrs = (double[])_baseLrs.Clone() };

    /// <summary>Restores a state from <see cref="state_dict"/> and sets the rates of that epoch.</summary>
    public void load_state_dict(SchedulerState state)
    {
        CheckState(state);
        last_epoch = state.last_epoch;
        _baseLrs = (double[])state.base_lrs.Clone();
        Apply();
    }

    /// <summary>Checks <paramref name="state"/> as <see cref="load_state_dict"/> does, changing nothing.</summary>
    internal void CheckState(SchedulerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.base_lrs.Length != optimizer.param_groups.Count)
            throw new ArgumentException($"scheduler state has {state.base_lrs.Length} base rates, the optimizer has {optimizer.param_groups.Count} groups", nameof(state));
        ArgumentOutOfRangeException.ThrowIfNegative(state.last_epoch);
    }

    private void Apply()
    {
        _lastLrs = _baseLrs.Select(lr => _schedule(last_epoch, lr)).ToArray();
        for (int i = 0; i < _lastLrs.Length; i++) optimizer.param_groups[i].lr = _lastLrs[i];
    }
}
