using LowRankBias.Torch.Amp;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Training;

/// <summary>How a <see cref="Trainer"/> runs: budget, clipping, logging, evaluation, checkpoints and early stop.
/// Step counts are optimizer steps, counted over resumed runs.</summary>
public sealed record TrainerOptions
{
    /// <summary>Stop after this many steps in total (null: no step limit).</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Stop after this many epochs in total (null: no epoch limit). At least one budget must be set.</summary>
    public long? Epochs { get; init; }

    /// <summary>Clip the global 2-norm of the gradients the optimizer applies (<see cref="Optimizer.master_params"/>,
    /// unscaled) to this value before each step (null: no clipping).</summary>
    public double? MaxGradNorm { get; init; }

    /// <summary>Run the forward pass and loss (training and evaluation) under <see cref="torch.autocast(DeviceType, ScalarType?, bool)"/>
    /// with this dtype, float16 or bfloat16, on the model's device type (null: in the parameters' precision).</summary>
    public ScalarType? Autocast { get; init; }

    /// <summary>Scale the loss with this scaler, unscale before clipping and skip steps with inf/NaN gradients (for
    /// float16 training). Its state goes into the checkpoints.</summary>
    public GradScaler? GradScaler { get; init; }

    /// <summary>What to do when a step's loss is NaN or ±∞: stop with a <see cref="NonFiniteLossException"/> (default)
    /// or skip the step. Checking reads one flag from the device per step.</summary>
    public NonFiniteLoss NonFiniteLoss { get; init; } = NonFiniteLoss.Stop;

    /// <summary>Write a <c>train</c> record every this many steps (the mean over those steps). Each epoch's end also
    /// writes a <c>train_epoch</c> record.</summary>
    public long LogEvery { get; init; } = 50;

    /// <summary>Evaluate on the test loader every this many steps; 0 evaluates at the end of every epoch. The end of
    /// training always evaluates.</summary>
    public long EvalEvery { get; init; }

    /// <summary>Checkpoint every this many steps; 0 checkpoints only at the end of training. Needs
    /// <see cref="OutputDirectory"/>.</summary>
    public long CheckpointEvery { get; init; }

    /// <summary>How many checkpoints to keep.</summary>
    public int KeepCheckpoints { get; init; } = 3;

    /// <summary>
    /// Where the run writes <c>metrics.jsonl</c>, <c>metrics.csv</c> and <c>checkpoints/</c> (null: nothing is
    /// written). When the folder holds a checkpoint, training resumes from the newest one.
    /// </summary>
    public string? OutputDirectory { get; init; }

    /// <summary>How progress is shown.</summary>
    public ProgressMode Progress { get; init; } = ProgressMode.Auto;

    /// <summary>The display used under <see cref="ProgressMode.Auto"/> (null: plain lines).</summary>
    public TrainingProgress? Display { get; init; }

    /// <summary>Early stop: training ends after the step at which this returns true for a written record, e.g.
    /// <c>r =&gt; r.Split == "test" &amp;&amp; r.Accuracy &gt;= 0.9</c>.</summary>
    public Func<MetricsRecord, bool>? StopWhen { get; init; }

    /// <summary>Generators whose state checkpoints keep, by name (e.g. those of random augmentations).</summary>
    public IReadOnlyDictionary<string, SplitMix64> Generators { get; init; } = new Dictionary<string, SplitMix64>();

    /// <summary>User metadata written into every checkpoint.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Throws a clear exception for inconsistent settings.</summary>
    public void Validate()
    {
        if (MaxSteps is null && Epochs is null) throw new ArgumentException("set MaxSteps or Epochs: training needs a budget");
        if (MaxSteps is < 0) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "must be >= 0");
        if (Epochs is < 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "must be >= 0");
        if (MaxGradNorm is { } norm && !(norm > 0)) throw new ArgumentOutOfRangeException(nameof(MaxGradNorm), norm, "must be > 0");
        if (Autocast is { } dtype && dtype is not (ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentOutOfRangeException(nameof(Autocast), dtype, "autocast runs in float16 or bfloat16");
        ArgumentOutOfRangeException.ThrowIfLessThan(LogEvery, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(EvalEvery);
        ArgumentOutOfRangeException.ThrowIfNegative(CheckpointEvery);
        ArgumentOutOfRangeException.ThrowIfLessThan(KeepCheckpoints, 1);
        if (CheckpointEvery > 0 && OutputDirectory is null)
            throw new ArgumentException("CheckpointEvery needs an OutputDirectory to write the checkpoints to");
        if (!Enum.IsDefined(NonFiniteLoss)) throw new ArgumentOutOfRangeException(nameof(NonFiniteLoss), NonFiniteLoss, "unknown non-finite loss policy");
        if (!Enum.IsDefined(Progress)) throw new ArgumentOutOfRangeException(nameof(Progress), Progress, "unknown progress mode");
    }
}
