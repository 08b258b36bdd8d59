using System.Collections;
using System.Globalization;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// A list of child modules named "0", "1", … (PyTorch's <c>nn.ModuleList</c>). It has no forward: the owning
/// module iterates it. Assigning an entry (or <c>set_submodule("layers.2", m)</c>) replaces what that iteration runs.
/// </summary>
public sealed class ModuleList : Module, IReadOnlyList<Module>
{
    /// <summary>A list holding <paramref name="modules"/> in order.</summary>
    public ModuleList(params IEnumerable<Module> modules) => extend(modules);

    /// <summary>Number of modules.</summary>
    public int Count => _registered.Count;

    /// <summary>The module at <paramref name="index"/> (negative counts from the end).</summary>
    public Module this[int index]
    {
        get => _registered.GetAt(Position(index, Count)).Value!;
        set => _registered.SetAt(Position(index, Count), value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>Adds a module at the end; returns this list.</summary>
    public ModuleList append(Module module)
    {
        register_module(Count.ToString(CultureInfo.InvariantCulture), module);
        return this;
    }

    /// <summary>Adds modules at the end; returns this list.</summary>
    public ModuleList extend(IEnumerable<Module> modules)
    {
        foreach (Module m in modules) append(m);
        return this;
    }

    /// <summary>Inserts a module before <paramref name="index"/>; later entries are renamed to their new positions.</summary>
    public void insert(int index, Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        int at = index == Count ? Count : Position(index, Count);
        var entries = this.ToList();
        entries.Insert(at, module);
        _registered.Clear();
        extend(entries);
    }

    /// <summary>Enumerates the modules in order.</summary>
    public IEnumerator<Module> GetEnumerator() => _registered.Values.Select(m => m!).ToList().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Python-style index: negative counts from the end; out of range is a clear error.</summary>
    internal static int Position(int index, int count)
    {
        int i = index < 0 ? index + count : index;
        if (i < 0 || i >= count) throw new ArgumentOutOfRangeException(nameof(index), index, $"index out of range for {count} modules");
        return i;
    }
}
