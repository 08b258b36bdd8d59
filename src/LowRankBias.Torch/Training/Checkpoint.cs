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
/// <c>lowrankbias.checkpoint</c>: format version, step, epoch, wall time, the optimizer's groups (options type and
/// values, parameter indices) and per-parameter step counts and state names, the scheduler and loss-scaler states,
/// loader positions, generator states and the user metadata.
/// </remarks>
public sealed class Checkpoint : IDisposable
{
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
    /// Loads the saved state into <paramref name="model"/> (strictly: same parameter names and shapes), into
    /// <paramref name="optimizer"/>, <paramref name="scheduler"/> and an enabled <paramref name="scaler"/> when given,
    /// and restores the CPU generator. Throws <see cref="InvalidDataException"/> naming the file when the state does
    /// not fit; the model is checked before anything changes, but a misfit optimizer, scheduler or scaler is found
    /// after the model was loaded.
    /// </summary>
    public void Restore(Module model, Optimizer? optimizer = null, LRScheduler? scheduler = null, GradScaler? scaler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (optimizer is not null && Optimizer is null) throw Misfit("holds no optimizer state");
        if (scheduler is not null && Scheduler is null) throw Misfit("holds no scheduler state");
        if (scaler is not null && scaler.is_enabled() && Scaler is null) throw Misfit("holds no loss-scaler state");
        Fit($"does not fit the model {model.GetType().Name}", () => model.load_state_dict(Model));
        if (optimizer is not null) Fit($"does not fit the optimizer {optimizer.GetType().Name}", () => optimizer.load_state_dict(Optimizer!));
        if (scheduler is not null) Fit($"does not fit the scheduler {scheduler.GetType().Name}", () => scheduler.load_state_dict(Scheduler!));
        if (scaler is not null) Fit("does not fit the loss scaler", () => scaler.load_state_dict(Scaler));
        if (RngState is not null) torch.set_rng_state(RngState);
    }

    /// <summary>Moves <paramref name="loader"/> to the position saved under <paramref name="name"/>.</summary>
    public void RestoreLoader(string name, DataLoader loader)
    {
        ArgumentNullException.ThrowIfNull(loader);
        if (!Loaders.TryGetValue(name, out DataLoaderState state)) throw Misfit($"holds no position for the data loader '{name}'");
        Fit($"does not fit the data loader '{name}'", () => loader.load_state_dict(state));
    }

    /// <summary>Sets <paramref name="generator"/> to the state saved under <paramref name="name"/>.</summary>
    public void RestoreGenerator(string name, SplitMix64 generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (!Generators.TryGetValue(name, out ulong state)) throw Misfit($"holds no state for the generator '{name}'");
        generator.State = state;
    }

    /// <summary>Writes the checkpoint to <paramref name="path"/> atomically: a failure midway leaves any earlier
    /// file at that path intact.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckpointFile.Write(this, path);
        Path = path;
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>. A missing file gives <see cref="FileNotFoundException"/>,
    /// a damaged or foreign one <see cref="InvalidDataException"/>, both naming the file.</summary>
    public static Checkpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return CheckpointFile.Read(path);
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        foreach (Tensor t in Model.Values.Concat(Extra.Values)) t.Dispose();
        Model.Clear();
        Extra.Clear();
        Optimizer?.Dispose();
        Optimizer = null;
        RngState?.Dispose();
        RngState = null;
    }

    private InvalidDataException Misfit(string problem, Exception? inner = null) =>
        new($"checkpoint {Path ?? "(not saved)"} {problem}{(inner is null ? "" : ": " + inner.Message)}", inner);

    private void Fit(string problem, Action load)
    {
        try { load(); }
        catch (ArgumentException e) { throw Misfit(problem, e); }
    }
}
