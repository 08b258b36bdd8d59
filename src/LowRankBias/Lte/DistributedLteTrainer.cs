using LowRankBias.Torch;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Lte;

/// <summary>
/// <see cref="LteTrainer"/> for one rank of a <see cref="DistributedLte"/> run: each <see cref="Step"/> trains this
/// rank's heads on their share of the cumulative batch with no communication, and on the run's schedule (every
/// <see cref="LteOptions.MergeEvery"/> steps, or as <see cref="LteOptions.AdaptiveMerge"/> decides from statistics all
/// ranks compute alike) all ranks merge together (with <see cref="LteOptions.ResetOptimizer"/>, the heads' optimizer
/// state is then cleared).
/// </summary>
public sealed class DistributedLteTrainer
{
    private readonly LteTrainer _trainer;

    /// <summary>Trains <paramref name="model"/>'s local heads; <paramref name="optimizer"/> holds exactly
    /// <c>model.local.head_parameters()</c> (see <see cref="LteTrainer"/> for the other arguments).</summary>
    public DistributedLteTrainer(DistributedLte model, Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss, LRScheduler? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        // A restarted rank that rejoined goes on from the running job's last merge.
        _trainer = new LteTrainer(model.local, optimizer, loss, scheduler, model.options, Fold, model.Geometry) { Iteration = model.MergedAt };
        this.model = model;
    }

    /// <summary>The distributed model.</summary>
    public DistributedLte model { get; }

    /// <summary>Cumulative batches trained so far.</summary>
    public long Iteration => _trainer.Iteration;

    /// <summary>The trainer of this rank's heads (merge count, controller statistics, head resets).</summary>
    public LteTrainer local => _trainer;

    /// <summary>
    /// Trains one cumulative batch — the same <paramref name="input"/> and <paramref name="target"/> on every rank,
    /// of which this rank uses its share (<see cref="DistributedLte.ShareOf"/>) — and returns the mean loss of this
    /// rank's heads. Merges over the group when the iteration count reaches a multiple of T.
    /// </summary>
    public double Step(Tensor input, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (target.size(0) != input.size(0)) throw new ArgumentException($"input has {input.size(0)} samples but target has {target.size(0)}", nameof(target));
        using Tensor x = model.ShareOf(input), y = model.ShareOf(target);
        return _trainer.Step(x, y);
    }

    private void Fold()
    {
        model.MergedAt = _trainer.Iteration;
        model.Merge();
    }
}
