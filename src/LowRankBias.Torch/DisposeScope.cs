namespace LowRankBias.Torch;

/// <summary>
/// Frees every tensor created on this thread while the scope is the innermost one, when the scope is disposed,
/// unless the tensor was moved to the outer scope or detached. Scopes nest per thread and end in LIFO order.
/// <code>using (torch.NewDisposeScope()) { var loss = ...; loss.backward(); }</code>
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? t_current;

    private readonly HashSet<Tensor> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly DisposeScope? _outer;
    private bool _disposed;

    internal DisposeScope()
    {
        _outer = t_current;
        t_current = this;
    }

    /// <summary>The innermost scope of this thread, if any.</summary>
    public static DisposeScope? Current => t_current;

    /// <summary>The scope this one is nested in.</summary>
    public DisposeScope? Outer => _outer;

    /// <summary>How many tensors this scope will free.</summary>
    public int Count => _owned.Count;

    internal static void Register(Tensor tensor)
    {
        DisposeScope? scope = t_current;
        if (scope is null) return;
        scope._owned.Add(tensor);
        tensor.Scope = scope;
    }

    internal void Release(Tensor tensor)
    {
        _owned.Remove(tensor);
        tensor.Scope = null;
    }

    internal void Adopt(Tensor tensor)
    {
        tensor.Scope?.Release(tensor);
        _owned.Add(tensor);
        tensor.Scope = this;
    }

    /// <summary>Frees the scope's tensors. Disposing a scope that is not the innermost one is an error.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (t_current != this)
            throw new InvalidOperationException("dispose scopes must end in the reverse order they began (innermost first), on the thread that began them");
        _disposed = true;
        t_current = _outer;
        foreach (Tensor tensor in _owned)
        {
            tensor.Scope = null;
            tensor.Dispose();
        }
        _owned.Clear();
    }
}
