namespace LowRankBias.Torch.Modules;

// PyTorch's __call__: forward wrapped by hooks, which observe (spectral monitors) or replace inputs and outputs.
public abstract partial class Module
{
    private readonly List<(long id, Func<Module, Tensor, Tensor?> hook)> _forwardPreHooks = [];
    private readonly List<(long id, Func<Module, Tensor, Tensor, Tensor?> hook)> _forwardHooks = [];
    private long _nextHookId;

    /// <summary>Runs the forward pre-hooks, <see cref="forward"/>, then the forward hooks (PyTorch's <c>module(x)</c>).</summary>
    public Tensor call(Tensor input) => Call(input, forward);

    /// <summary><see cref="call"/>'s hooks around <paramref name="body"/> in place of <see cref="forward"/>.</summary>
    private protected Tensor Call(Tensor input, Func<Tensor, Tensor> body)
    {
        foreach ((_, Func<Module, Tensor, Tensor?> hook) in _forwardPreHooks.ToArray())
            input = hook(this, input) ?? input;
        Tensor output = body(input);
        foreach ((_, Func<Module, Tensor, Tensor, Tensor?> hook) in _forwardHooks.ToArray())
            output = hook(this, input, output) ?? output;
        return output;
    }

    /// <summary>Registers <c>hook(module, input)</c>, run before forward; a non-null result replaces the input.</summary>
    public RemovableHandle register_forward_pre_hook(Func<Module, Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        long id = _nextHookId++;
        _forwardPreHooks.Add((id, hook));
        return new RemovableHandle(() => _forwardPreHooks.RemoveAll(h => h.id == id));
    }

    /// <summary>Registers <c>hook(module, input, output)</c>, run after forward; a non-null result replaces the output.</summary>
    public RemovableHandle register_forward_hook(Func<Module, Tensor, Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        long id = _nextHookId++;
        _forwardHooks.Add((id, hook));
        return new RemovableHandle(() => _forwardHooks.RemoveAll(h => h.id == id));
    }

    /// <summary>Registers an observing <c>hook(module, input, output)</c>, run after forward.</summary>
    public RemovableHandle register_forward_hook(Action<Module, Tensor, Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return register_forward_hook((m, input, output) => { hook(m, input, output); return null; });
    }
}
