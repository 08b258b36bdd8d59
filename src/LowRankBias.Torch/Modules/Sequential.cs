using System.Globalization;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// Runs its children in order, each on the previous one's output (PyTorch's <c>nn.Sequential</c>). Children are
/// named "0", "1", … or given names; replacing one (by index or with <c>set_submodule</c>) changes what runs.
/// </summary>
public sealed class Sequential : Module
{
    /// <summary>A sequence named "0", "1", ….</summary>
    public Sequential(params IEnumerable<Module> modules)
    {
        foreach (Module m in modules) append(m);
    }

    /// <summary>A sequence with named steps: <c>new Sequential([("fc", fc), ("out", head)])</c>.</summary>
    public Sequential(IEnumerable<(string name, Module module)> modules)
    {
        foreach ((string name, Module module) in modules)
        {
            if (_registered.ContainsKey(name)) throw new ArgumentException($"Sequential: duplicate name '{name}'", nameof(modules));
            register_module(name, module);
        }
    }

    /// <summary>Number of steps.</summary>
    public int Count => _registered.Count;

    /// <summary>The step at <paramref name="index"/> (negative counts from the end).</summary>
    public Module this[int index]
    {
        get => _registered.GetAt(ModuleList.Position(index, Count)).Value!;
        set => _registered.SetAt(ModuleList.Position(index, Count), value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>Adds a step at the end, named by its position; returns this sequence.</summary>
    public Sequential append(Module module)
    {
        register_module(Count.ToString(CultureInfo.InvariantCulture), module);
        return this;
    }

    /// <summary>Feeds <paramref name="input"/> through every step (each through <see cref="Module.call"/>, so hooks run).</summary>
    public override Tensor forward(Tensor input)
    {
        Tensor x = input;
        foreach (Module step in children()) x = step.call(x);
        return x;
    }
}
