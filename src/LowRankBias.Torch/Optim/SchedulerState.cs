namespace LowRankBias.Torch.Optim;

/// <summary>What a <see cref="LRScheduler"/> needs to resume: its epoch and the groups' base rates.</summary>
public sealed record SchedulerState
{
    /// <summary>Epochs stepped so far.</summary>
    public long last_epoch { get; init; }

    /// <summary>Each group's rate at epoch 0.</summary>
    public double[] base_lrs { get; init; } = [];
}
