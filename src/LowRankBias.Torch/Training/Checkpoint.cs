using LowRankBias.Torch.Amp;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Training;

/// <summary>
/// Everything needed to continue a training run exactly: model weights, optimizer state (tensors, hyper-parameters,
/// step counts), scheduler and loss-scaler states, the CPU generator's state, data-loader positions, augmentation
/// generator states, step/epoch counters and user metadata. <see cref="Save"/> writes one safetensors file atomically;
/// <see cref="Load"/> reads it back. The checkpoint owns, and disposes, every tensor it holds.
/// </summary>
/// <remarks>
/// File layout: a standard safetensors file (readable by Python's <c>safetensors</c>). Tensors: <c>model.{key}</c>
/// (the state dict), <c>optim.{parameter index}.{name}</c> (e.g. <c>optim.0.exp_avg</c>), <c>rng</c> and
/// <c>extra.{name}</c>. Everything else is one JSON document in the <c>__metadata__</c> entry
/// <c>lowrankbias.checkpoint</c>: format version, a CRC-32C of every tensor's bytes (verified by <see cref="Load"/>;
/// version 1 files, written before checksums, are read unverified), step, epoch, wall time, the optimizer's groups (options type and
/// values, parameter indices) and per-parameter step counts and state names, the scheduler and loss-scaler states,
/// loader positions, generator states and the user metadata.
/// </remarks>
public sealed class Checkpoint : IDisposable
{
    private bool _disposed;

    /// <summary>Optimizer steps done.</summary>
    public long Step { get; set; }

    /// <summary>Training epochs completed.</summary>
    public long Epoch { get; set; }

    /// <summary>Seconds of training so far, summed over resumed runs.</summary>
    public double WallTime { get; set; }

    /// <summary>The model's state dict (host copies).</summary>
    public OrderedDictionary<string, Tensor> Model { get; } = new();

    /// <summary>The optimizer's state, if saved.</summary>
    public OptimizerStateDict? Optimizer { get; set; }

    /// <summary>The learning-rate scheduler's state, if saved.</summary>
    public SchedulerState? Scheduler { get; set; }

    /// <summary>The loss scaler's state, if saved.</summary>
    public GradScalerState? Scaler { get; set; }

    /// <summary>The CPU generator's state (<see cref="torch.get_rng_state"/>), if saved.</summary>
    public Tensor? RngState { get; set; }

    /// <summary>Data-loader positions by name (the trainer uses <c>train</c> and <c>test</c>).</summary>
    public Dictionary<string, DataLoaderState> Loaders { get; } = [];

    /// <summary>States of <see cref="SplitMix64"/> generators (e.g. augmentations) by name.</summary>
    public Dictionary<string, ulong> Generators { get; } = [];

    /// <summary>Further tensors to keep, by name (the trainer keeps its running metric sums here).</summary>
    public OrderedDictionary<string, Tensor> Extra { get; } = new();

    /// <summary>Free-form user metadata (configuration, git commit…).</summary>
    public Dictionary<string, string> Metadata { get; } = [];

    /// <summary>The file this checkpoint was loaded from or last saved to, if any; errors name it.</summary>
    public string? Path { get; internal set; }

    /// <summary>
    /// A snapshot of <paramref name="model"/> (copied to the host), of <paramref name="optimizer"/>,
    /// <paramref name="scheduler"/> and <paramref name="scaler"/> when given, and of the CPU generator. Counters,
    /// loaders and generators are left for the caller to fill in.
    /// </summary>
    public static Checkpoint Capture(Module model, Optimizer? optimizer = null, LRScheduler? scheduler = null, GradScaler? scaler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var checkpoint = new Checkpoint();
        try
        {
            using (torch.NewDisposeScope())
                foreach ((string key, Tensor value) in model.state_dict())
                    checkpoint.Model.Add(key, value.to(Device.CPU, copy: true).DetachFromDisposeScope());
            checkpoint.Optimizer = optimizer?.state_dict();
            checkpoint.Scheduler = scheduler?.state_dict();
            checkpoint.Scaler = scaler?.state_dict();
            checkpoint.RngState = torch.get_rng_state().DetachFromDisposeScope();
            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the saved state into <paramref name="model"/> (strictly: same parameter names, shapes and dtypes), into
    /// <paramref name="optimizer"/>, <paramref name="scheduler"/> and an enabled <paramref name="scaler"/> when given,
    /// moves each of <paramref name="loaders"/> to the position saved under its name, and restores the CPU generator.
    /// All or nothing: every part is checked before any changes (finite values, optimizer state shaped like its
    /// parameters, counters >= 0 included), so when the state does not fit or is damaged an
    /// <see cref="InvalidDataException"/> naming the file and the part is thrown and everything is left as it was.
    /// </summary>
    public void Restore(Module model, Optimizer? optimizer = null, LRScheduler? scheduler = null, GradScaler? scaler = null,
        IReadOnlyDictionary<string, DataLoader>? loaders = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ThrowIfDisposed();
        if (optimizer is not null && Optimizer is null) throw Misfit("holds no optimizer state");
        if (scheduler is not null && Scheduler is null) throw Misfit("holds no scheduler state");
        if (scaler is not null && scaler.is_enabled() && Scaler is null) throw Misfit("holds no loss-scaler state");

        CheckCounters();
        Module.StateDictLoad modelLoad = Fit($"does not fit the model {model.GetType().Name}", () => model.CheckStateDict(Model));
        CheckModelValues(model, modelLoad);
        if (optimizer is not null) Fit($"does not fit the optimizer {optimizer.GetType().Name}", () => optimizer.CheckStateDict(Optimizer!));
        if (scheduler is not null) Fit($"does not fit the scheduler {scheduler.GetType().Name}", () => scheduler.CheckState(Scheduler!));
        if (scaler is not null && scaler.is_enabled()) Fit("does not fit the loss scaler", () => scaler.CheckState(Scaler));
        foreach ((string name, DataLoader loader) in loaders ?? new Dictionary<string, DataLoader>())
        {
            if (!Loaders.TryGetValue(name, out DataLoaderState state)) throw Misfit($"holds no position for the data loader '{name}'");
            Fit($"does not fit the data loader '{name}'", () => loader.CheckState(state));
        }
        if (RngState is not null) Fit("holds an invalid generator state 'rng'", () => torch.CheckRngState(RngState));

        modelLoad.Apply();
        optimizer?.load_state_dict(Optimizer!);
        scheduler?.load_state_dict(Scheduler!);
        scaler?.load_state_dict(Scaler);
        foreach ((string name, DataLoader loader) in loaders ?? new Dictionary<string, DataLoader>()) loader.load_state_dict(Loaders[name]);
        if (RngState is not null) torch.set_rng_state(RngState);
    }

    /// <summary>Moves <paramref name="loader"/> to the position saved under <paramref name="name"/>.</summary>
    public void RestoreLoader(string name, DataLoader loader)
    {
        ArgumentNullException.ThrowIfNull(loader);
        ThrowIfDisposed();
        if (!Loaders.TryGetValue(name, out DataLoaderState state)) throw Misfit($"holds no position for the data loader '{name}'");
        Fit($"does not fit the data loader '{name}'", () => loader.load_state_dict(state));
    }

    /// <summary>Sets <paramref name="generator"/> to the state saved under <paramref name="name"/>.</summary>
    public void RestoreGenerator(string name, SplitMix64 generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ThrowIfDisposed();
        if (!Generators.TryGetValue(name, out ulong state)) throw Misfit($"holds no state for the generator '{name}'");
        generator.State = state;
    }

    /// <summary>Writes the checkpoint to <paramref name="path"/> atomically: a failure midway leaves any earlier
    /// file at that path intact.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ThrowIfDisposed();
        CheckpointFile.Write(this, path);
        Path = path;
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>. A missing file gives <see cref="FileNotFoundException"/>,
    /// a damaged or foreign one <see cref="InvalidDataException"/>, both naming the file (and a tensor whose bytes do not
    /// match their checksum).</summary>
    public static Checkpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return CheckpointFile.Read(path);
    }

    /// <summary>Frees the tensors; the checkpoint cannot be restored or saved afterwards.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (Tensor t in Model.Values.Concat(Extra.Values)) t.Dispose();
        Model.Clear();
        Extra.Clear();
        Optimizer?.Dispose();
        Optimizer = null;
        RngState?.Dispose();
        RngState = null;
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(Checkpoint), $"checkpoint {Path ?? "(not saved)"} was disposed: its tensors are freed, so it can no longer be restored or saved");
    }

    // A checkpoint continues a run exactly: counters are never negative.
    private void CheckCounters()
    {
        if (Step < 0) throw Misfit($"holds step {Step}, a count that cannot be negative");
        if (Epoch < 0) throw Misfit($"holds epoch {Epoch}, a count that cannot be negative");
        if (!double.IsFinite(WallTime) || WallTime < 0) throw Misfit($"holds wall time {WallTime}, which must be a finite number of seconds >= 0");
    }

    // Capture keeps each tensor's dtype, so another dtype (which copy_ would silently convert) or a non-finite value
    // means the checkpoint is damaged or not this model's.
    // Parameters must be finite; buffers may legitimately hold ±∞ (an attention mask), so only their dtype is checked.
    private void CheckModelValues(Module model, Module.StateDictLoad load)
    {
        var parameters = model.named_parameters().Select(p => p.name).ToHashSet(StringComparer.Ordinal);
        foreach ((string key, Tensor target, Tensor source) in load.Pairs)
        {
            if (source.dtype != target.dtype)
                throw Misfit($"does not fit the model: it holds '{key}' as {source.dtype}, the model's tensor is {target.dtype}");
            if (parameters.Contains(key) && !NonFiniteValues.AllFinite(source))
                throw Misfit($"is damaged: the model parameter '{key}' holds NaN or infinite values");
        }
    }

    private InvalidDataException Misfit(string problem, Exception? inner = null) =>
        new($"checkpoint {Path ?? "(not saved)"} {problem}{(inner is null ? "" : ": " + inner.Message)}", inner);

    private void Fit(string problem, Action check) => Fit(problem, () => { check(); return 0; });

    private T Fit<T>(string problem, Func<T> check)
    {
        try { return check(); }
        catch (ArgumentException e) { throw Misfit(problem, e); }
    }
}
