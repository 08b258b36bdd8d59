using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Overparam;

/// <summary>
/// Linear over-parameterisation (Huh thesis, §2.5 and App. 7.2): replace linear layers of any model by products of
/// d factors that compute the same family of functions but train with depth's low-rank bias, and multiply them
/// back. Inside <c>LowRankBias.*</c> namespaces write <c>LowRankBias.Overparam.Overparam</c> (or an alias), since the
/// namespace of the same name is found first.
/// </summary>
public static partial class Overparam
{
    /// <summary>
    /// Replaces every selected <see cref="Linear"/> by an <see cref="ExpandedLinear"/> and every selected
    /// <see cref="Conv2d"/> by an <see cref="ExpandedConv2d"/> through <see cref="Module.set_submodule"/>, so it works on
    /// any model whose child slots accept a <see cref="Module"/>. The replaced layers are disposed. Returns the model
    /// (or the expansion itself when <paramref name="model"/> is a single layer): use the return value. Nothing is
    /// changed when a setting or a layer is rejected.
    /// </summary>
    public static Module Expand(Module model, ExpansionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new ExpansionOptions();
        options.Validate();
        var replacements = new List<(Module layer, List<string> paths, Module expanded)>();
        try
        {
            foreach ((Module layer, List<string> paths) in LayerSelection.Select(model, options))
                replacements.Add((layer, paths, layer switch
                {
                    Linear linear => new ExpandedLinear(linear, options, paths[0]),
                    Conv2d conv => new ExpandedConv2d(conv, options, paths[0]),
                    _ => throw new InvalidOperationException($"unexpected layer type {layer.GetType().Name}"),
                }));
        }
        catch
        {
            foreach (var r in replacements) r.expanded.Dispose();
            throw;
        }
        return Replace(model, replacements);
    }

    /// <summary>
    /// Replaces every <see cref="ExpandedLayer"/> in <paramref name="model"/> by a plain <see cref="Linear"/> or
    /// <see cref="Conv2d"/> holding its effective weight and bias, giving the original architecture computing the
    /// same function. The expanded layers are disposed. Returns the model (or the plain layer when
    /// <paramref name="model"/> is itself expanded). Throws when the model contains no expanded layer.
    /// </summary>
    public static Module Collapse(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var replacements = model.named_modules(remove_duplicate: false)
            .Where(m => m.module is ExpandedLayer)
            .GroupBy(m => m.module, ReferenceEqualityComparer.Instance)
            .Select(g => ((Module)g.Key!, g.Select(m => m.name).ToList(), ((ExpandedLayer)g.Key!).Collapse()))
            .ToList();
        if (replacements.Count == 0)
            throw new InvalidOperationException($"{model.GetType().Name} contains no expanded layer: Collapse undoes Expand, and this model was never expanded");
        return Replace(model, replacements);
    }

    /// <summary>
    /// The end-to-end weight of a layer: W_d ⋯ W_1 for an <see cref="ExpandedLayer"/> (in the original weight's
    /// shape), the weight itself (a view) for a plain <see cref="Linear"/> or <see cref="Conv2d"/>. Differentiable;
    /// belongs to the caller's dispose scope. Feed it to <c>LowRankBias.Spectral</c> metrics or to <see cref="Regularizers"/>.
    /// </summary>
    public static Tensor EffectiveWeight(Module layer) => layer switch
    {
        null => throw new ArgumentNullException(nameof(layer)),
        ExpandedLayer expanded => expanded.EffectiveWeight(),
        Linear linear => linear.weight.alias(),
        Conv2d conv => conv.weight.alias(),
        _ => throw new ArgumentException($"{layer.GetType().Name} has no effective weight: expected Linear, Conv2d or an expanded layer", nameof(layer)),
    };

    /// <summary>The effective weight of every Linear, Conv2d and expanded layer of <paramref name="model"/>, named by
    /// module path, in <c>named_modules</c> order (the list <c>SpectralMetrics.Analyze</c> takes).</summary>
    public static IReadOnlyList<(string name, Tensor weight)> EffectiveWeights(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.named_modules()
            .Where(m => m.module is ExpandedLayer or Linear or Conv2d)
            .Select(m => (m.name, EffectiveWeight(m.module)))
            .ToList();
    }

    // Puts each replacement into every path of its layer, rolling back if a slot refuses it (a field declared with a
    // concrete layer type), then disposes the replaced layers. A replaced root is returned instead.
    private static Module Replace(Module model, List<(Module layer, List<string> paths, Module replacement)> replacements)
    {
        var done = new List<(string path, Module layer)>();
        Module result = model;
        try
        {
            foreach ((Module layer, List<string> paths, Module replacement) in replacements)
                foreach (string path in paths)
                {
                    if (path.Length == 0) result = replacement;
                    else model.set_submodule(path, replacement);
                    done.Add((path, layer));
                }
        }
        catch
        {
            foreach ((string path, Module layer) in done)
                if (path.Length > 0) model.set_submodule(path, layer);
            foreach (var r in replacements) r.replacement.Dispose();
            throw;
        }
        foreach (var r in replacements) r.layer.Dispose();
        return result;
    }
}
