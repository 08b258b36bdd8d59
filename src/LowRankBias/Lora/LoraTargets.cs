using LowRankBias.Torch.Modules;

namespace LowRankBias.Lora;

/// <summary>
/// Resolves a config's target, exclusion, save and pattern settings against a model. Every module except the root
/// is a candidate, and a LoRA layer stands for the layer it wraps (its inner modules are not candidates). A setting
/// that selects nothing is an error that lists the model's modules, so typos surface at once.
/// </summary>
internal static class LoraTargets
{
    /// <summary>The paths and modules to wrap (or, when already wrapped, to extend) for <paramref name="config"/>.</summary>
    public static List<(string path, Module module)> Resolve(Module model, LoraConfig config)
    {
        ModuleSelector target = config.target_modules
            ?? throw new ArgumentException("LoraConfig.target_modules is required: name the layers to adapt (names, path suffixes, a regular expression or \"all-linear\")", nameof(config));
        List<(string path, Module module)> candidates = Candidates(model);
        List<string> saved = ModulesToSave(model, config.modules_to_save);

        bool Eligible((string path, Module module) c) =>
            !(config.exclude_modules?.Matches(c.path, Unwrapped(c.module)) ?? false)
            && !saved.Any(s => c.path == s || c.path.StartsWith(s + ".", StringComparison.Ordinal));
        List<(string path, Module module)> eligible = candidates.Where(Eligible).ToList();

        if (target.names is not null)
            foreach (string name in target.names)
                if (!eligible.Any(c => ModuleSelector.MatchesName(c.path, name)))
                    throw NothingMatched(model, $"target_modules entry '{name}'", candidates.Count != eligible.Count);
        List<(string path, Module module)> matched = eligible.Where(c => target.Matches(c.path, Unwrapped(c.module))).ToList();
        if (matched.Count == 0) throw NothingMatched(model, $"target_modules {target}", candidates.Count != eligible.Count);

        foreach ((string path, Module module) in matched)
            if (!LoraLayerFactory.IsSupported(Unwrapped(module)))
                throw new ArgumentException($"target_modules {target} selects '{path}', a {module.GetType().Name}; LoRA supports {string.Join(", ", LoraLayerFactory.SupportedTypes)}. " +
                    "Name the layers inside it instead.", nameof(config));

        foreach (string key in config.rank_pattern.Keys.Concat(config.alpha_pattern.Keys))
            if (!matched.Any(c => LoraConfig.PatternKey([key], c.path) is not null))
                throw new ArgumentException($"rank_pattern/alpha_pattern key '{key}' matches none of the targeted modules: {string.Join(", ", matched.Select(c => c.path))}", nameof(config));
        return matched;
    }

    /// <summary>The paths of the modules named by <paramref name="names"/> (each name must match at least one).</summary>
    public static List<string> ModulesToSave(Module model, IReadOnlyList<string>? names)
    {
        if (names is null) return [];
        List<(string path, Module module)> candidates = Candidates(model);
        var paths = new List<string>();
        foreach (string name in names)
        {
            string[] hits = candidates.Where(c => ModuleSelector.MatchesName(c.path, name)).Select(c => c.path).ToArray();
            if (hits.Length == 0) throw NothingMatched(model, $"modules_to_save entry '{name}'", false);
            paths.AddRange(hits.Except(paths));
        }
        return paths;
    }

    /// <summary>Every module but the root, skipping the insides of LoRA layers.</summary>
    public static List<(string path, Module module)> Candidates(Module model)
    {
        var result = new List<(string path, Module module)>();
        string? insideLora = null;
        foreach ((string path, Module module) in model.named_modules())
        {
            if (path.Length == 0) continue;
            if (insideLora is not null && path.StartsWith(insideLora, StringComparison.Ordinal)) continue;
            insideLora = module is LoraLayer ? path + "." : null;
            result.Add((path, module));
        }
        return result;
    }

    /// <summary>The layer a LoRA layer wraps, or the module itself.</summary>
    public static Module Unwrapped(Module module) => module is LoraLayer lora ? lora.base_layer : module;

    private static ArgumentException NothingMatched(Module model, string what, bool someExcluded) => new(
        $"{what} matches no module{(someExcluded ? " (after exclude_modules and modules_to_save)" : "")}. The model's modules are:\n  " +
        string.Join("\n  ", Candidates(model).Select(c => $"{c.path} ({Unwrapped(c.module).GetType().Name})")));
}
