using System.Diagnostics;
using LowRankBias.Torch.Amp;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Training;

/// <summary>
/// Trains a model with a <see cref="LossFunction"/>, an optimizer and an optional per-step learning-rate scheduler:
/// epochs or a step budget over a <see cref="DataLoader"/>, optional gradient clipping, loss and accuracy logged as
/// <see cref="MetricsRecord"/>s (metrics files, progress display), evaluation on a test loader, early stop, callbacks
/// every N steps, mixed precision (<see cref="TrainerOptions.Autocast"/>, <see cref="TrainerOptions.GradScaler"/>), and
/// checkpoints from which a new process resumes bit-identically (see <see cref="Fit"/>).
/// Each step runs in its own dispose scope; losses are summed on the device and read back only when logged.
/// </summary>
public sealed partial class Trainer : IDisposable
{
    private const string TrainSplit = "train", EpochSplit = "train_epoch", TestSplit = "test";

    private readonly LossFunction _loss;
    private readonly Device _device;
    private readonly List<(long every, Action<Trainer> callback)> _callbacks = [];
    private readonly RunningMetrics _window, _epochSums;
    private readonly Stopwatch _clock = new();
    private double _wallTimeBefore;
    private MetricsWriter? _metrics;
    private TrainingProgress? _progress;
    private bool _stopRequested;
    private double _lastLearningRate = double.NaN;

    /// <summary>A trainer of <paramref name="model"/>; <paramref name="scheduler"/>, when given, must schedule
    /// <paramref name="optimizer"/> and is stepped after every optimizer step.</summary>
    public Trainer(Module model, Optimizer optimizer, LossFunction loss, TrainerOptions options, LRScheduler? scheduler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (scheduler is not null && scheduler.optimizer != optimizer)
            throw new ArgumentException("the scheduler schedules another optimizer than the one given", nameof(scheduler));
        Model = model;
        Optimizer = optimizer;
        Scheduler = scheduler;
        Options = options;
        _loss = loss;
        _device = model.parameters().FirstOrDefault()?.device ?? Device.CPU;
        _window = new RunningMetrics(_device);
        _epochSums = new RunningMetrics(_device);
    }

    /// <summary>The trained model.</summary>
    public Module Model { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The learning-rate scheduler, stepped once per optimizer step.</summary>
    public LRScheduler? Scheduler { get; }

    /// <summary>The settings.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Optimizer steps done (over resumed runs).</summary>
    public long Step { get; private set; }

    /// <summary>The epoch the latest step belonged to (0-based).</summary>
    public long Epoch { get; private set; }

    /// <summary>Seconds spent in <see cref="Fit"/> so far, over resumed runs.</summary>
    public double WallTime => _wallTimeBefore + _clock.Elapsed.TotalSeconds;

    /// <summary>Calls <paramref name="callback"/> after every <paramref name="every"/>-th step (after the scheduler
    /// step, before logging), in a dispose scope of its own. Callbacks may write records with <see cref="Log"/>.</summary>
    public void AddCallback(long every, Action<Trainer> callback)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        ArgumentNullException.ThrowIfNull(callback);
        _callbacks.Add((every, callback));
    }

    /// <summary>Writes a record of <paramref name="values"/> under <paramref name="split"/> at the current step (to the
    /// metrics files and the progress display while <see cref="Fit"/> runs); <see cref="TrainerOptions.StopWhen"/>
    /// sees it too.</summary>
    public void Log(string split, IReadOnlyDictionary<string, double> values)
    {
        ArgumentException.ThrowIfNullOrEmpty(split);
        ArgumentNullException.ThrowIfNull(values);
        Emit(new MetricsRecord(Step, Epoch, split) { Extra = new Dictionary<string, double>(values), WallTime = WallTime });
    }

    /// <summary>
    /// Trains until the budget of <see cref="Options"/> is spent or <see cref="TrainerOptions.StopWhen"/> fires.
    /// With an <see cref="TrainerOptions.OutputDirectory"/> holding checkpoints, first resumes from the newest:
    /// model, optimizer, scheduler, loss scaler, CPU generator, loader positions, registered generators, counters and running
    /// metric sums are restored, so the run continues exactly as if it had not stopped. Metrics records logged after
    /// that checkpoint are dropped, since the resumed run logs them again. Ends with a record of the last steps, an
    /// evaluation on <paramref name="test"/> and a checkpoint, unless the latest step already had them.
    /// </summary>
    public TrainingResult Fit(DataLoader train, DataLoader? test = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        string? output = Options.OutputDirectory;
        CheckpointDirectory? checkpoints = output is null ? null : new CheckpointDirectory(Path.Combine(output, "checkpoints"), Options.KeepCheckpoints);
        string? resumedFrom = checkpoints?.Latest();
        if (resumedFrom is not null) Resume(resumedFrom, train, test);
        _metrics = output is null ? null : resumedFrom is null ? MetricsWriter.Create(output) : MetricsWriter.Resume(output, Step);
        _progress = TrainingProgress.Create(Options.Progress, Options.Display);
        _stopRequested = false;
        EvaluationResult? evaluation = null;
        Model.train();
        _clock.Restart();
        try
        {
            _progress.Run(TotalSteps(train), () =>
            {
                if (resumedFrom is not null) _progress.Note($"resumed from {resumedFrom} at step {Step}");
                evaluation = RunSteps(train, test, checkpoints);
            });
        }
        finally
        {
            _wallTimeBefore += _clock.Elapsed.TotalSeconds;
            _clock.Reset();
            _metrics?.Dispose();
            _metrics = null;
            _progress = null;
        }
        return new TrainingResult(Step, train.Epoch, _stopRequested, evaluation, WallTime);
    }

    /// <summary>The mean loss (and accuracy) over the rest of <paramref name="loader"/>'s current epoch (the whole
    /// set when it starts at an epoch boundary), in eval mode without autograd. The model's mode is restored after.</summary>
    public EvaluationResult Evaluate(DataLoader loader)
    {
        ArgumentNullException.ThrowIfNull(loader);
        bool wasTraining = Model.training;
        using var sums = new RunningMetrics(_device);
        Model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            long epoch = loader.Epoch;
            do
            {
                using var scope = torch.NewDisposeScope();
                Tensor[] batch = loader.Next();
                sums.Add(ComputeLoss(batch), batch[0].size(0));
            } while (loader.Epoch == epoch);
        }
        finally
        {
            Model.train(wasTraining);
        }
        (double loss, double? accuracy, double rate) = sums.Read();
        return new EvaluationResult(loss, accuracy, sums.Samples, rate);
    }

    /// <summary>Frees the running metric sums (the model, optimizer and loaders stay the caller's).</summary>
    public void Dispose()
    {
        _window.Dispose();
        _epochSums.Dispose();
    }

    // The loop. The last step also logs its unfinished record and evaluates before its checkpoint, so that the final
    // checkpoint follows everything the run writes, and resuming a finished run has nothing left to do.
    private EvaluationResult? RunSteps(DataLoader train, DataLoader? test, CheckpointDirectory? checkpoints)
    {
        EvaluationResult? evaluation = null;
        _progress!.Advance(Step);
        while (!_stopRequested && !BudgetSpent(train))
        {
            Epoch = train.Epoch;
            TrainStep(train);
            Step++;
            Scheduler?.step();
            RunCallbacks();
            bool epochEnded = train.Epoch != Epoch;
            bool evaluationDue = test is not null && (Options.EvalEvery > 0 ? Step % Options.EvalEvery == 0 : epochEnded);
            if (Step % Options.LogEvery == 0) LogWindow();
            if (epochEnded) LogEpoch();
            if (evaluationDue) evaluation = EvaluateAndLog(test!);
            bool last = _stopRequested || BudgetSpent(train);
            if (last && !_window.IsEmpty) LogWindow();
            if (last && test is not null && !evaluationDue) evaluation = EvaluateAndLog(test);
            if (checkpoints is not null && (last || (Options.CheckpointEvery > 0 && Step % Options.CheckpointEvery == 0)))
                SaveCheckpoint(checkpoints, train, test);
            _progress.Advance(Step);
        }
        return evaluation;
    }

    private void TrainStep(DataLoader train)
    {
        using var scope = torch.NewDisposeScope();
        Tensor[] batch = train.Next();
        Optimizer.zero_grad();
        LossResult result = ComputeLoss(batch);
        if (result.Loss is null) throw new InvalidOperationException("the loss function returned no loss tensor");
        if (!IsFinite(result.Loss)) return;
        GradScaler? scaler = Options.GradScaler;
        (scaler?.scale(result.Loss) ?? result.Loss).backward();
        if (Options.MaxGradNorm is { } maxNorm)
        {
            scaler?.unscale_(Optimizer);
            torch.nn.utils.clip_grad_norm_(Optimizer.master_params(), maxNorm);
        }
        try
        {
            if (scaler is null) Optimizer.step();
            else
            {
                scaler.step(Optimizer);
                scaler.update();
            }
        }
        catch (NonFiniteGradientException e)
        {
            SkipOrStop(e);
            return;
        }
        _lastLearningRate = Optimizer.param_groups[0].lr;
        long samples = batch[0].size(0);
        _window.Add(result, samples);
        _epochSums.Add(result, samples);
    }

    // Stops (default) or skips the step on a NaN/±∞ loss, before backward, so the weights stay those of the last good step.
    private bool IsFinite(Tensor loss)
    {
        using (Tensor flags = loss.isfinite())
        using (Tensor finite = flags.all())
            if (finite.item<bool>()) return true;
        double value;
        using (Tensor asDouble = loss.detach().to(ScalarType.Float64)) value = asDouble.numel() == 1 ? asDouble.item<double>() : double.NaN;
        long step = Step + 1;
        if (Options.NonFiniteLoss == NonFiniteLoss.SkipStep)
        {
            _progress?.Note($"step {step}: the loss is {value}, step skipped");
            return false;
        }
        throw new NonFiniteLossException($"step {step} (epoch {Epoch}): the loss is {value}; training stopped before this step's " +
            $"backward pass, so the weights are those after step {Step}. Lower the learning rate, clip gradients (MaxGradNorm), " +
            "or set TrainerOptions.NonFiniteLoss = SkipStep to skip such steps", step, value);
    }

    // A finite loss whose gradients are not (the optimizer's error_if_nonfinite): skipped under SkipStep, else rethrown
    // naming the parameter and the step; the optimizer changed nothing either way.
    private void SkipOrStop(NonFiniteGradientException e)
    {
        long step = Step + 1;
        if (Options.NonFiniteLoss == NonFiniteLoss.SkipStep)
        {
            _progress?.Note($"step {step}: a gradient is NaN or ±∞, step skipped");
            return;
        }
        Tensor parameter = Optimizer.param_groups.SelectMany(g => g.@params).ElementAt(e.Parameter);
        string name = Model.named_parameters().FirstOrDefault(p => ReferenceEquals(p.parameter, parameter)).name ?? $"parameter {e.Parameter}";
        throw new NonFiniteGradientException($"step {step} (epoch {Epoch}): the gradient of '{name}' is NaN or ±∞ (the loss is finite); " +
            $"training stopped before the update, so the weights are those after step {Step}. Lower the learning rate, clip " +
            "gradients (MaxGradNorm), or set TrainerOptions.NonFiniteLoss = SkipStep to skip such steps", e.Parameter, e);
    }

    // The loss of a batch, under autocast on the model's device type when the options ask for it.
    private LossResult ComputeLoss(Tensor[] batch)
    {
        using torch.AutocastScope? autocast = Options.Autocast is { } dtype ? torch.autocast(_device.Type, dtype) : null;
        return _loss(Model, batch);
    }

    private bool BudgetSpent(DataLoader train) =>
        (Options.MaxSteps is { } steps && Step >= steps) || (Options.Epochs is { } epochs && train.Epoch >= epochs);

    private long TotalSteps(DataLoader train)
    {
        long byEpochs = Options.Epochs is { } epochs ? epochs * train.Count : long.MaxValue;
        return Math.Min(Options.MaxSteps ?? long.MaxValue, byEpochs);
    }

    private void RunCallbacks()
    {
        foreach ((long every, Action<Trainer> callback) in _callbacks)
        {
            if (Step % every != 0) continue;
            using var scope = torch.NewDisposeScope();
            callback(this);
        }
    }

    private void LogWindow() => LogSums(_window, TrainSplit);

    private void LogEpoch() => LogSums(_epochSums, EpochSplit);

    private void LogSums(RunningMetrics sums, string split)
    {
        (double loss, double? accuracy, double rate) = sums.Read();
        sums.Reset();
        Emit(new MetricsRecord(Step, Epoch, split)
        {
            Loss = loss,
            Accuracy = accuracy,
            LearningRate = _lastLearningRate,
            SamplesPerSecond = rate,
            WallTime = WallTime,
        });
    }

    private EvaluationResult EvaluateAndLog(DataLoader test)
    {
        EvaluationResult result = Evaluate(test);
        Emit(new MetricsRecord(Step, Epoch, TestSplit)
        {
            Loss = result.Loss,
            Accuracy = result.Accuracy,
            SamplesPerSecond = result.SamplesPerSecond,
            WallTime = WallTime,
        });
        return result;
    }

    private void Emit(MetricsRecord record)
    {
        _metrics?.Write(record);
        _progress?.Report(record);
        if (Options.StopWhen?.Invoke(record) == true) _stopRequested = true;
    }
}
