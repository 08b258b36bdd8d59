using System.Text.RegularExpressions;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Overparam;

/// <summary>Finds the layers <see cref="Overparam.Expand"/> replaces: Linear / Conv2d modules of the requested types,
/// narrowed by whole-path include patterns and excluded by exclude patterns, each distinct module once with all
/// the paths it is reachable by (a shared layer is replaced everywhere by the same expansion).</summary>
internal static class LayerSelection
{
    public static IReadOnlyList<(Module layer, List<string> paths)> Select(Module model, ExpansionOptions options)
    {
        Regex[] include = Compile(options.Include);
        Regex[] exclude = Compile(options.Exclude);
        var used = new bool[include.Length];
        var selected = new List<(Module layer, List<string> paths)>();
        foreach ((string path, Module module) in model.named_modules(remove_duplicate: false))
        {
            if (exclude.Any(r => r.IsMatch(path))) continue;
            int[] matches = Enumerable.Range(0, include.Length).Where(i => include[i].IsMatch(path)).ToArray();
            bool named = matches.Length > 0;
            if (include.Length > 0 && !named) continue;
            if (!IsTarget(module, path, named, options.Targets)) continue;
            foreach (int i in matches) used[i] = true;
            int existing = selected.FindIndex(s => ReferenceEquals(s.layer, module));
            if (existing >= 0) selected[existing].paths.Add(path);
            else selected.Add((module, [path]));
        }
        for (int i = 0; i < include.Length; i++)
            if (!used[i])
                throw new ArgumentException($"include pattern '{options.Include![i]}' selects no {Describe(options.Targets)} layer of the model", nameof(options));
        if (selected.Count == 0)
            throw new ArgumentException($"the model has no {Describe(options.Targets)} layer to expand", nameof(model));
        return selected;
    }

    private static bool IsTarget(Module module, string path, bool named, ExpansionTargets targets)
    {
        switch (module)
        {
            case Linear: return targets.HasFlag(ExpansionTargets.Linear);
            case Conv2d: return targets.HasFlag(ExpansionTargets.Conv2d);
            case ExpandedLayer when named:
                throw new ArgumentException($"'{path}' is already expanded ({module.GetType().Name}); collapse the model first to expand it again", nameof(module));
            default:
                // A pattern that names a layer with its own parameters asked for something that cannot be expanded;
                // containers and parameter-free modules (activations) are passed over, their children are matched on their own.
                if (named && module.named_parameters(recurse: false).Any())
                    throw new NotSupportedException(
                        $"'{path}' is a {module.GetType().Name}, which cannot be expanded: only Linear and Conv2d (groups = 1) layers can");
                return false;
        }
    }

    private static Regex[] Compile(IReadOnlyList<string>? patterns) =>
        (patterns ?? []).Select(p => new Regex($"^(?:{p})$", RegexOptions.CultureInvariant)).ToArray();

    private static string Describe(ExpansionTargets targets) => targets switch
    {
        ExpansionTargets.Linear => "Linear",
        ExpansionTargets.Conv2d => "Conv2d",
        _ => "Linear or Conv2d",
    };
}
