namespace LowRankBias.Torch.Modules;

/// <summary>Removes a registered hook when <see cref="remove"/> is called or the handle is disposed.</summary>
public sealed class RemovableHandle : IDisposable
{
    private Action? _remove;

    internal RemovableHandle(Action remove) => _remove = remove;

    /// <summary>Unregisters the hook; later calls do nothing.</summary>
    public void remove()
    {
        _remove?.Invoke();
        _remove = null;
    }

    /// <summary>Same as <see cref="remove"/>.</summary>
    public void Dispose() => remove();
}
