using System.Diagnostics.CodeAnalysis;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// Base class of every layer and model (PyTorch's <c>nn.Module</c>). A module owns its parameters and buffers,
/// registered by name and only ever updated in place, and its child modules, which are simply its fields typed
/// <see cref="Module"/> (or a subclass): the field is the one place a child lives, so
/// <see cref="set_submodule"/> replaces exactly what <see cref="forward"/> runs. Modules held in collections must
/// use <see cref="ModuleList"/> or <see cref="ModuleDict"/>. Disposing a module frees its parameters, buffers and
/// children.
/// </summary>
public abstract partial class Module : IDisposable
{
    private readonly OrderedDictionary<string, Tensor?> _parameters = new();
    private readonly OrderedDictionary<string, Tensor?> _buffers = new();
    private readonly HashSet<string> _nonPersistentBuffers = [];
    private readonly Dictionary<string, string> _stateKeys = [];
    private bool _disposed;

    /// <summary>True in training mode (the default), false after <see cref="eval"/>.</summary>
    public bool training { get; private set; } = true;

    /// <summary>
    /// Registers <paramref name="parameter"/> under <paramref name="name"/> and takes ownership of it (it leaves its
    /// dispose scope). A null parameter reserves the name (e.g. a disabled bias). Returns the parameter, so a
    /// layer can write <c>weight = register_parameter("weight", w);</c>.
    /// </summary>
    [return: NotNullIfNotNull(nameof(parameter))]
    public Tensor? register_parameter(string name, Tensor? parameter, bool requires_grad = true)
    {
        CheckNewName(name);
        if (parameter is not null)
        {
            if (!parameter.is_leaf)
                throw new ArgumentException($"parameter '{name}' must be a leaf tensor (it was computed from tensors that require grad); register its detach()", nameof(parameter));
            if (requires_grad && !parameter.dtype.IsFloatingPoint())
                throw new ArgumentException($"parameter '{name}' has dtype {parameter.dtype}: only floating-point tensors can require grad", nameof(parameter));
            parameter.DetachFromDisposeScope().requires_grad_(requires_grad);
        }
        _parameters.Add(name, parameter);
        return parameter;
    }

    /// <summary>
    /// Registers a buffer: state that is not trained (running statistics, masks). Persistent buffers are part of
    /// <see cref="state_dict"/>. The module takes ownership of the tensor.
    /// </summary>
    [return: NotNullIfNotNull(nameof(buffer))]
    public Tensor? register_buffer(string name, Tensor? buffer, bool persistent = true)
    {
        CheckNewName(name);
        buffer?.DetachFromDisposeScope();
        _buffers.Add(name, buffer);
        if (!persistent) _nonPersistentBuffers.Add(name);
        return buffer;
    }

    /// <summary>
    /// Makes the parameter or buffer <paramref name="name"/> appear in <see cref="state_dict"/> (and be read by
    /// <see cref="load_state_dict"/>) under <paramref name="key"/> relative to this module instead of its name — for
    /// file formats whose keys are not identifiers, such as bitsandbytes' <c>weight.absmax</c> (PyTorch modules get
    /// this by overriding <c>_save_to_state_dict</c>).
    /// </summary>
    protected void set_state_key(string name, string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (!_parameters.ContainsKey(name) && !_buffers.ContainsKey(name))
            throw new ArgumentException($"{TypeName} has no parameter or buffer named '{name}'", nameof(name));
        _stateKeys[name] = key;
    }

    /// <summary>Computes the module's output. Call it through <see cref="call"/> so hooks run.</summary>
    public virtual Tensor forward(Tensor input) =>
        throw new NotImplementedException($"{TypeName} does not implement forward(Tensor)");

    /// <summary>The parameters of this module and (when <paramref name="recurse"/>) its descendants, each once.</summary>
    public IEnumerable<Tensor> parameters(bool recurse = true) => named_parameters(recurse: recurse).Select(p => p.parameter);

    /// <summary>
    /// Parameters with their hierarchical names (<c>blocks.0.attn.q.weight</c>), in registration order, depth
    /// first. A parameter shared by several modules appears once, under its first name.
    /// </summary>
    public IEnumerable<(string name, Tensor parameter)> named_parameters(string prefix = "", bool recurse = true) =>
        NamedTensors(prefix, recurse, m => m._parameters);

    /// <summary>The buffers of this module and (when <paramref name="recurse"/>) its descendants.</summary>
    public IEnumerable<Tensor> buffers(bool recurse = true) => named_buffers(recurse: recurse).Select(b => b.buffer);

    /// <summary>Buffers with their hierarchical names, each once.</summary>
    public IEnumerable<(string name, Tensor buffer)> named_buffers(string prefix = "", bool recurse = true) =>
        NamedTensors(prefix, recurse, m => m._buffers);

    private IEnumerable<(string, Tensor)> NamedTensors(string prefix, bool recurse, Func<Module, OrderedDictionary<string, Tensor?>> table)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        IEnumerable<(string name, Module module)> owners = recurse ? named_modules(prefix) : [(prefix, this)];
        foreach ((string path, Module module) in owners)
            foreach ((string name, Tensor? tensor) in table(module))
                if (tensor is not null && seen.Add(tensor))
                    yield return (Join(path, name), tensor);
    }

    /// <summary>The parameter at a dotted path such as <c>blocks.0.q.weight</c>.</summary>
    public Tensor get_parameter(string target)
    {
        (string modulePath, string name) = SplitLast(target);
        Module owner = get_submodule(modulePath);
        if (!owner._parameters.TryGetValue(name, out Tensor? parameter))
            throw new ArgumentException($"{owner.TypeName} at '{modulePath}' has no parameter '{name}' (looking up '{target}')", nameof(target));
        return parameter ?? throw new ArgumentException($"parameter '{target}' is None", nameof(target));
    }

    /// <summary>Sets training mode on this module and every descendant; returns this module.</summary>
    public Module train(bool mode = true)
    {
        foreach (Module m in modules()) m.training = mode;
        return this;
    }

    /// <summary>Evaluation mode: <c>train(false)</c>.</summary>
    public Module eval() => train(false);

    /// <summary>Sets <see cref="Tensor.requires_grad"/> on every parameter (freezing or unfreezing); returns this module.</summary>
    public Module requires_grad_(bool requires_grad = true)
    {
        foreach (Tensor p in parameters()) p.requires_grad = requires_grad;
        return this;
    }

    /// <summary>Clears every parameter's gradient (or zeroes it in place when <paramref name="set_to_none"/> is false).</summary>
    public void zero_grad(bool set_to_none = true) => Foreach.zero_grad(parameters(), set_to_none);

    /// <summary>Calls <paramref name="fn"/> on every descendant, children first, then on this module; returns this module.</summary>
    public Module apply(Action<Module> fn)
    {
        foreach (Module child in children()) child.apply(fn);
        fn(this);
        return this;
    }

    /// <summary>Frees the parameters, buffers and child modules. A module replaced by <see cref="set_submodule"/>
    /// is no longer a child and is not freed here: whoever replaced it owns it.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees owned tensors and children; subclasses holding other native state override and call base.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed || !disposing) return;
        _disposed = true;
        foreach (Tensor? t in _parameters.Values) t?.Dispose();
        foreach (Tensor? t in _buffers.Values) t?.Dispose();
        foreach (Module child in children()) child.Dispose();
    }

    private void CheckNewName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('.'))
            throw new ArgumentException($"name '{name}' must not contain '.', which separates path segments", nameof(name));
        string? kind = _parameters.ContainsKey(name) ? "a parameter"
            : _buffers.ContainsKey(name) ? "a buffer"
            : HasChildSlot(name) ? "a child module"
            : null;
        if (kind is not null)
            throw new ArgumentException($"{TypeName} already has {kind} named '{name}'", nameof(name));
    }

    private string TypeName
    {
        get
        {
            string name = GetType().Name;
            int tick = name.IndexOf('`');
            return tick < 0 ? name : name[..tick];
        }
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    private static (string parent, string last) SplitLast(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        int dot = path.LastIndexOf('.');
        return dot < 0 ? ("", path) : (path[..dot], path[(dot + 1)..]);
    }
}
