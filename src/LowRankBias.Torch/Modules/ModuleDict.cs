using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace LowRankBias.Torch.Modules;

/// <summary>Child modules by name, in insertion order (PyTorch's <c>nn.ModuleDict</c>).</summary>
public sealed class ModuleDict : Module, IReadOnlyDictionary<string, Module>
{
    /// <summary>A dictionary holding <paramref name="modules"/> in order.</summary>
    public ModuleDict(params IEnumerable<(string name, Module module)> modules)
    {
        foreach ((string name, Module module) in modules) this[name] = module;
    }

    /// <summary>The module named <paramref name="key"/>; setting adds it or replaces the existing one.</summary>
    public Module this[string key]
    {
        get => TryGetValue(key, out Module? m) ? m : throw new KeyNotFoundException($"ModuleDict has no module '{key}' (keys: {string.Join(", ", Keys)})");
        set => register_module(key, value);
    }

    /// <summary>Number of modules.</summary>
    public int Count => _registered.Count;

    /// <summary>The names, in insertion order.</summary>
    public IEnumerable<string> Keys => _registered.Keys;

    /// <summary>The modules, in insertion order.</summary>
    public IEnumerable<Module> Values => _registered.Values.Select(m => m!);

    /// <summary>True when a module is named <paramref name="key"/>.</summary>
    public bool ContainsKey(string key) => _registered.ContainsKey(key);

    /// <summary>Looks up a module by name.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Module value)
    {
        bool found = _registered.TryGetValue(key, out Module? m);
        value = m;
        return found && m is not null;
    }

    /// <summary>Enumerates (name, module) pairs in insertion order.</summary>
    public IEnumerator<KeyValuePair<string, Module>> GetEnumerator() =>
        _registered.Select(e => new KeyValuePair<string, Module>(e.Key, e.Value!)).ToList().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
