using System.Reflection;

namespace LowRankBias.Torch.Modules;

// Child modules. A child lives in exactly one slot: a field of the module (found by reflection, see ChildFields)
// or, for modules without a field (containers, register_module), an entry of _registered. Every lookup and every
// replacement goes through that slot, so forward, which reads the same slot, always runs the current child.
public abstract partial class Module
{
    private protected readonly OrderedDictionary<string, Module?> _registered = new();

    private IReadOnlyDictionary<string, FieldInfo> Fields => ChildFields.Of(GetType());

    private bool HasChildSlot(string name) => Fields.ContainsKey(name) || _registered.ContainsKey(name);

    /// <summary>
    /// Adds <paramref name="module"/> as a child named <paramref name="name"/> (PyTorch's <c>add_module</c>). When the
    /// module has a field of that name, the field is assigned; otherwise the child is kept by name (replacing any
    /// child already registered under it). Returns the module.
    /// </summary>
    public T register_module<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        if (Fields.TryGetValue(name, out FieldInfo? field)) AssignField(field, name, module);
        else if (_registered.ContainsKey(name)) _registered[name] = module;
        else
        {
            CheckNewName(name);
            _registered.Add(name, module);
        }
        return module;
    }

    /// <summary>The direct children with their names: fields in declaration order, then registered children.</summary>
    public IEnumerable<(string name, Module module)> named_children()
    {
        foreach ((string name, FieldInfo field) in Fields)
            if (field.GetValue(this) is Module child) yield return (name, child);
        foreach ((string name, Module? child) in _registered.ToArray())
            if (child is not null) yield return (name, child);
    }

    /// <summary>The direct children.</summary>
    public IEnumerable<Module> children() => named_children().Select(c => c.module);

    /// <summary>This module and every descendant, each once (depth first, pre-order).</summary>
    public IEnumerable<Module> modules() => named_modules().Select(m => m.module);

    /// <summary>
    /// This module (named <paramref name="prefix"/>) and every descendant with its dotted path, depth first.
    /// With <paramref name="remove_duplicate"/> a module reachable by several paths appears once.
    /// </summary>
    public IEnumerable<(string name, Module module)> named_modules(string prefix = "", bool remove_duplicate = true)
    {
        var seen = remove_duplicate ? new HashSet<Module>(ReferenceEqualityComparer.Instance) : null;
        return Walk(prefix, seen, []);
    }

    private IEnumerable<(string, Module)> Walk(string path, HashSet<Module>? seen, List<Module> ancestors)
    {
        if (seen is not null && !seen.Add(this)) yield break;
        if (ancestors.Contains(this, ReferenceEqualityComparer.Instance))
            throw new InvalidOperationException($"module tree has a cycle: '{path}' ({TypeName}) contains itself");
        yield return (path, this);
        ancestors.Add(this);
        foreach ((string name, Module child) in named_children())
            foreach ((string, Module) descendant in child.Walk(Join(path, name), seen, ancestors))
                yield return descendant;
        ancestors.RemoveAt(ancestors.Count - 1);
    }

    /// <summary>The module at a dotted path such as <c>blocks.0.attn</c> ("" is this module).</summary>
    public Module get_submodule(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        Module current = this;
        if (target.Length == 0) return current;
        string walked = "";
        foreach (string name in target.Split('.'))
        {
            current = current.Child(name)
                ?? throw new ArgumentException($"{current.TypeName} at '{walked}' has no submodule '{name}' (looking up '{target}')", nameof(target));
            walked = Join(walked, name);
        }
        return current;
    }

    /// <summary>
    /// Replaces the submodule at a dotted path by <paramref name="module"/>. The slot that holds the old child (its
    /// field, or its container entry) now holds the new one, so every later forward runs it. The old module is
    /// not disposed: the caller owns it (typically the replacement wraps it).
    /// </summary>
    public void set_submodule(string target, Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrEmpty(target);
        (string parentPath, string name) = SplitLast(target);
        Module parent = get_submodule(parentPath);
        if (parent.Fields.TryGetValue(name, out FieldInfo? field)) parent.AssignField(field, name, module);
        else if (parent._registered.ContainsKey(name)) parent._registered[name] = module;
        else throw new ArgumentException($"{parent.TypeName} at '{parentPath}' has no submodule '{name}' to replace (target '{target}')", nameof(target));
    }

    private Module? Child(string name) =>
        Fields.TryGetValue(name, out FieldInfo? field) ? (Module?)field.GetValue(this)
        : _registered.TryGetValue(name, out Module? child) ? child
        : null;

    private void AssignField(FieldInfo field, string name, Module module)
    {
        if (!field.FieldType.IsInstanceOfType(module))
            throw new ArgumentException(
                $"cannot put a {module.TypeName} into {TypeName}.{name}: the field is declared as {field.FieldType.Name}. " +
                $"Declare it as Module (or a base type of {module.TypeName}) so it can be replaced.", nameof(module));
        field.SetValue(this, module);
    }
}
