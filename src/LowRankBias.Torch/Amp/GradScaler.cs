using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Amp;

/// <summary>
/// Dynamic loss scaling for float16 training, as PyTorch's <c>GradScaler</c>: <see cref="scale"/> multiplies the loss so
/// that small gradients do not underflow float16, <see cref="unscale_"/> divides the optimizer's gradients back and
/// notes whether any is inf/NaN, <see cref="step"/> skips the optimizer step when one was, and <see cref="update"/>
/// multiplies the scale by <c>backoff_factor</c> after such a step or by <c>growth_factor</c> after
/// <c>growth_interval</c> clean ones. The scale and the inf/NaN flags stay on the device; the only read back to the
/// host is <see cref="step"/>'s decision to skip. Works on any device; owns its tensors.
/// <code>
/// scaler.scale(loss).backward();
/// scaler.unscale_(optimizer);                     // only needed to clip the true gradients
/// torch.nn.utils.clip_grad_norm_(optimizer.master_params(), 1.0);
/// scaler.step(optimizer);
/// scaler.update();
/// </code>
/// </summary>
public sealed class GradScaler : IDisposable
{
    private enum Stage { Ready, Unscaled, Stepped }

    // One optimizer's progress through the current iteration, with the inf/NaN flags of its gradients by device.
    private sealed class Progress
    {
        public Stage Stage;
        public readonly Dictionary<Device, Tensor> FoundInf = [];
    }

    private readonly bool _enabled;
    private readonly Dictionary<Optimizer, Progress> _progress = new(ReferenceEqualityComparer.Instance);
    private double _initScale, _growthFactor, _backoffFactor;
    private long _growthInterval, _initGrowthTracker;
    private Tensor? _scale, _growthTracker;

    /// <summary>A scaler starting at <paramref name="init_scale"/>; a disabled one passes everything through unchanged.</summary>
    public GradScaler(double init_scale = 65536, double growth_factor = 2, double backoff_factor = 0.5, long growth_interval = 2000,
        bool enabled = true)
    {
        Validate(init_scale, growth_factor, backoff_factor, growth_interval, 0);
        (_initScale, _growthFactor, _backoffFactor, _growthInterval) = (init_scale, growth_factor, backoff_factor, growth_interval);
        _enabled = enabled;
    }

    /// <summary>Whether the scaler scales at all.</summary>
    public bool is_enabled() => _enabled;

    /// <summary>The current scale (1 when disabled); reads it back from the device.</summary>
    public double get_scale() => !_enabled ? 1.0 : _scale is null ? _initScale : _scale.item<float>();

    /// <summary><paramref name="outputs"/> (usually the loss) times the scale; when disabled, a new handle to
    /// <paramref name="outputs"/> itself. The first call puts the scale on the outputs' device.</summary>
    public Tensor scale(Tensor outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (!_enabled) return outputs.alias();
        if (_scale is null)
        {
            _scale = torch.full([], _initScale, ScalarType.Float32, outputs.device).DetachFromDisposeScope();
            _growthTracker = torch.full([], _initGrowthTracker, ScalarType.Int32, outputs.device).DetachFromDisposeScope();
        }
        using var scope = torch.NewDisposeScope();
        return (outputs * _scale.to(outputs.device)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Divides the gradients of <paramref name="optimizer"/>'s <see cref="Optimizer.master_params"/> by the scale in
    /// place and records whether any was inf/NaN. Call it at most once per optimizer between updates, after the last
    /// backward, when the true gradients are needed before <see cref="step"/> (e.g. for clipping). float16 gradients are
    /// refused, as in PyTorch: unscaled, they would underflow again.
    /// </summary>
    public void unscale_(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!_enabled) return;
        Tensor scale = Initialized(nameof(unscale_));
        Progress progress = ProgressOf(optimizer);
        if (progress.Stage == Stage.Unscaled)
            throw new InvalidOperationException("unscale_() has already been called on this optimizer since the last update()");
        if (progress.Stage == Stage.Stepped) throw new InvalidOperationException("unscale_() is being called after step()");

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var grads = new Dictionary<(Device device, ScalarType dtype), List<Tensor>>();
        foreach (Tensor p in optimizer.master_params())
        {
            if (p.grad is not { } g) continue;
            if (g.dtype == ScalarType.Float16)
                throw new InvalidOperationException("Attempting to unscale float16 gradients: keep float32 parameters (autocast) " +
                    "or give the optimizer float32 master weights (MasterWeights = true)");
            if (!grads.TryGetValue((g.device, g.dtype), out List<Tensor>? list)) grads.Add((g.device, g.dtype), list = []);
            list.Add(g);
        }
        Tensor invScale = (1.0 / scale.@double()).@float();
        foreach (((Device device, _), List<Tensor> list) in grads)
        {
            if (!progress.FoundInf.TryGetValue(device, out Tensor? found))
                progress.FoundInf.Add(device, found = torch.zeros([], ScalarType.Float32, device).DetachFromDisposeScope());
            AmpKernels.non_finite_check_and_unscale_(list.ToArray(), found, invScale.to(device));
        }
        progress.Stage = Stage.Unscaled;
    }

    /// <summary>
    /// Unscales the gradients unless <see cref="unscale_"/> already did, then runs <paramref name="optimizer"/>'s step
    /// unless a gradient was inf/NaN. Returns whether the step ran (always, when disabled).
    /// </summary>
    public bool step(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!_enabled)
        {
            optimizer.step();
            return true;
        }
        Initialized(nameof(step));
        Progress progress = ProgressOf(optimizer);
        if (progress.Stage == Stage.Stepped) throw new InvalidOperationException("step() has already been called since the last update()");
        if (progress.Stage == Stage.Ready) unscale_(optimizer);
        if (progress.FoundInf.Count == 0)
            throw new InvalidOperationException("no inf checks were recorded for this optimizer: none of its parameters has a gradient");
        bool finite = progress.FoundInf.Values.All(found => found.item<float>() == 0);
        if (finite) optimizer.step();
        progress.Stage = Stage.Stepped;
        return finite;
    }

    /// <summary>
    /// Adapts the scale to the iteration's inf/NaN checks (see the class summary), or sets it to
    /// <paramref name="new_scale"/> when given, and starts the next iteration.
    /// </summary>
    public void update(double? new_scale = null)
    {
        if (!_enabled) return;
        Tensor scale = Initialized(nameof(update));
        if (new_scale is { } value)
        {
            Validate(value, _growthFactor, _backoffFactor, _growthInterval, 0);
            scale.fill_(value);
        }
        else
        {
            using var scope = torch.NewDisposeScope();
            Tensor[] found = _progress.Values.SelectMany(p => p.FoundInf.Values).Select(f => f.to(scale.device)).ToArray();
            if (found.Length == 0) throw new InvalidOperationException("no inf checks were recorded before update(): call step() first");
            Tensor combined = found.Length == 1 ? found[0] : torch.stack(found).sum();
            AmpKernels.update_scale_(scale, _growthTracker!, combined, _growthFactor, _backoffFactor, _growthInterval);
        }
        ClearProgress();
    }

    /// <summary>The scale, factors, interval and growth tracker (null when disabled, like PyTorch's empty dict).</summary>
    public GradScalerState? state_dict() => !_enabled ? null : new GradScalerState
    {
        scale = get_scale(),
        growth_factor = _growthFactor,
        backoff_factor = _backoffFactor,
        growth_interval = _growthInterval,
        growth_tracker = _growthTracker?.item<int>() ?? _initGrowthTracker,
    };

    /// <summary>Restores a state from <see cref="state_dict"/>; a disabled scaler ignores it.</summary>
    public void load_state_dict(GradScalerState? state)
    {
        if (!_enabled) return;
        CheckState(state);
        (_initScale, _growthFactor, _backoffFactor) = (state.scale, state.growth_factor, state.backoff_factor);
        (_growthInterval, _initGrowthTracker) = (state.growth_interval, state.growth_tracker);
        _scale?.fill_(state.scale);
        _growthTracker?.fill_(state.growth_tracker);
    }

    /// <summary>Checks <paramref name="state"/> as <see cref="load_state_dict"/> does (an enabled scaler needs one), changing nothing.</summary>
    internal void CheckState([System.Diagnostics.CodeAnalysis.NotNull] GradScalerState? state)
    {
        if (state is null)
            throw new ArgumentException("the scaler state is empty, possibly because it was saved from a disabled GradScaler", nameof(state));
        Validate(state.scale, state.growth_factor, state.backoff_factor, state.growth_interval, state.growth_tracker);
    }

    /// <summary>Frees the scale, the growth tracker and pending inf/NaN flags.</summary>
    public void Dispose()
    {
        ClearProgress();
        _scale?.Dispose();
        _growthTracker?.Dispose();
        _scale = _growthTracker = null;
    }

    private Tensor Initialized(string method) => _scale ??
        throw new InvalidOperationException($"{method}() before any scale(): scale the loss with this GradScaler first");

    private Progress ProgressOf(Optimizer optimizer)
    {
        if (!_progress.TryGetValue(optimizer, out Progress? progress)) _progress.Add(optimizer, progress = new Progress());
        return progress;
    }

    private void ClearProgress()
    {
        foreach (Tensor found in _progress.Values.SelectMany(p => p.FoundInf.Values)) found.Dispose();
        _progress.Clear();
    }

    private static void Validate(double scale, double growthFactor, double backoffFactor, long growthInterval, long growthTracker)
    {
        if (!((float)scale > 0 && float.IsFinite((float)scale)))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "the scale must be a positive, finite float32 value");
        if (!(growthFactor > 1 && double.IsFinite(growthFactor)))
            throw new ArgumentOutOfRangeException("growth_factor", growthFactor, "must be a finite value > 1");
        if (!(backoffFactor > 0 && backoffFactor < 1))
            throw new ArgumentOutOfRangeException("backoff_factor", backoffFactor, "must be in (0, 1)");
        ArgumentOutOfRangeException.ThrowIfLessThan(growthInterval, 1, "growth_interval");
        if (growthTracker < 0 || growthTracker >= growthInterval)
            throw new ArgumentOutOfRangeException("growth_tracker", growthTracker, $"must be in [0, growth_interval = {growthInterval})");
    }
}
