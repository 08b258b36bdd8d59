namespace LowRankBias.Torch.Modules;

// Checkpoint state and device/dtype moves. Both update parameters and buffers in place, so anything holding a
// parameter (an optimizer, a hook) keeps seeing the live tensor.
public abstract partial class Module
{
    /// <summary>
    /// Every parameter and persistent buffer by hierarchical name, as detached aliases (same storage, no autograd),
    /// owned by the caller's dispose scope. A module reachable by several paths appears under each of them.
    /// </summary>
    public OrderedDictionary<string, Tensor> state_dict()
    {
        var result = new OrderedDictionary<string, Tensor>();
        foreach ((string key, Tensor tensor) in StateEntries()) result.Add(key, tensor.detach());
        return result;
    }

    /// <summary>
    /// Copies the tensors of <paramref name="state_dict"/> into the parameters and persistent buffers of the same
    /// names, in place and without autograd; values are converted to each target's dtype and device. Every shape is
    /// checked before anything is copied. With <paramref name="strict"/>, missing or unexpected keys are an error;
    /// otherwise they are returned.
    /// </summary>
    public (IReadOnlyList<string> missing_keys, IReadOnlyList<string> unexpected_keys) load_state_dict(
        IReadOnlyDictionary<string, Tensor> state_dict, bool strict = true)
    {
        StateDictLoad load = CheckStateDict(state_dict, strict);
        load.Apply();
        return (load.Missing, load.Unexpected);
    }

    /// <summary>Checks <paramref name="state_dict"/> as <see cref="load_state_dict"/> does, changing nothing; the
    /// result copies it in (so a checkpoint can check every part before changing any).</summary>
    internal StateDictLoad CheckStateDict(IReadOnlyDictionary<string, Tensor> state_dict, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state_dict);
        var targets = new OrderedDictionary<string, Tensor>();
        foreach ((string key, Tensor tensor) in StateEntries()) targets.Add(key, tensor);

        var missing = targets.Keys.Where(k => !state_dict.ContainsKey(k)).ToList();
        var unexpected = state_dict.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
            throw new ArgumentException($"load_state_dict into {TypeName} (strict): " +
                $"missing keys [{string.Join(", ", missing)}], unexpected keys [{string.Join(", ", unexpected)}]", nameof(state_dict));

        var pairs = targets.Where(t => state_dict.ContainsKey(t.Key)).Select(t => (t.Key, target: t.Value, source: state_dict[t.Key])).ToList();
        foreach ((string key, Tensor target, Tensor source) in pairs)
        {
            long[] want = target.shape, got = source.shape;
            if (!want.AsSpan().SequenceEqual(got))
                throw new ArgumentException($"load_state_dict: shape mismatch for '{key}': the model has [{string.Join(", ", want)}], " +
                    $"the state dict has [{string.Join(", ", got)}]", nameof(state_dict));
        }
        return new StateDictLoad(pairs, missing, unexpected);
    }

    /// <summary>A checked state dict, ready to be copied into its targets.</summary>
    internal sealed record StateDictLoad(List<(string key, Tensor target, Tensor source)> Pairs, List<string> Missing, List<string> Unexpected)
    {
        public void Apply()
        {
            using (torch.no_grad())
                foreach ((_, Tensor target, Tensor source) in Pairs) target.copy_(source);
        }
    }

    private IEnumerable<(string key, Tensor tensor)> StateEntries()
    {
        foreach ((string path, Module m) in named_modules(remove_duplicate: false))
        {
            foreach ((string name, Tensor? p) in m._parameters)
                if (p is not null) yield return (Join(path, m.StateKey(name)), p);
            foreach ((string name, Tensor? b) in m._buffers)
                if (b is not null && !m._nonPersistentBuffers.Contains(name)) yield return (Join(path, m.StateKey(name)), b);
        }
    }

    private string StateKey(string name) => _stateKeys.GetValueOrDefault(name, name);

    /// <summary>Moves every parameter, buffer and gradient to <paramref name="device"/> in place; returns this module.</summary>
    public Module to(Device device)
    {
        ConvertInPlace(t => t.to(device), onlyFloating: false);
        return this;
    }

    /// <summary>Converts every floating-point parameter, buffer and gradient to <paramref name="dtype"/> in place (integer
    /// buffers keep their type, as in PyTorch); returns this module.</summary>
    public Module to(ScalarType dtype)
    {
        if (!dtype.IsFloatingPoint())
            throw new ArgumentException($"Module.to accepts floating-point dtypes only, got {dtype}", nameof(dtype));
        ConvertInPlace(t => t.to(dtype), onlyFloating: true);
        return this;
    }

    private void ConvertInPlace(Func<Tensor, Tensor> convert, bool onlyFloating)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        IEnumerable<Tensor> tensors = parameters().Concat(buffers());
        foreach (Tensor t in tensors.Where(t => !onlyFloating || t.dtype.IsFloatingPoint()))
        {
            Tensor converted = convert(t);
            if (converted.dtype == t.dtype && converted.device == t.device) continue;
            // The gradient must move too: a parameter whose grad lives on another device or dtype cannot step.
            Tensor? grad = t.grad;
            Tensor? newGrad = grad is null ? null : convert(grad);
            if (grad is not null) t.grad = null;
            t.set_data(converted);
            if (newGrad is not null) t.grad = newGrad;
        }
    }
}
