using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Lora;

/// <summary>
/// A PEFT adapter trained on torchvision's (or timm's, Hugging Face's) Vision Transformer names its modules by that
/// library's paths (<c>encoder.layers.encoder_layer_0.mlp.0</c>); loaded onto a <see cref="VisionTransformer"/>, its
/// keys and its config's module names are renamed to ours through <see cref="VisionTransformer.module_paths"/>, the
/// name map the model's own checkpoint was read with.
/// </summary>
internal static class ForeignAdapterPaths
{
    private static readonly VitLayout[] s_layouts = [VitLayout.Torchvision, VitLayout.Timm, VitLayout.HuggingFace];

    /// <summary>The config and file renamed onto <paramref name="model"/>, or both unchanged when the file already names
    /// the model's modules, the model is no ViT, or no layout names every module the file does.</summary>
    internal static (LoraConfig config, Dictionary<string, Tensor> file) ToModel(Module model, LoraConfig config, Dictionary<string, Tensor> file, string keyPrefix)
    {
        if (model is not VisionTransformer vit) return (config, file);
        var ours = vit.named_modules().Select(m => m.name).ToHashSet(StringComparer.Ordinal);
        var keys = file.Keys.Where(k => k.StartsWith(keyPrefix, StringComparison.Ordinal)).Select(k => k[keyPrefix.Length..]).ToList();
        if (keys.Count != file.Count || keys.All(k => ModuleOf(k, ours) is not null)) return (config, file);
        foreach (VitLayout layout in s_layouts)
        {
            IReadOnlyDictionary<string, string> paths = vit.module_paths(layout);
            var theirs = paths.Keys.ToHashSet(StringComparer.Ordinal);
            if (!keys.All(k => ModuleOf(k, theirs) is not null)) continue;
            var renamed = keys.ToDictionary(k => keyPrefix + Rename(k, ModuleOf(k, theirs)!, paths), k => file[keyPrefix + k], StringComparer.Ordinal);
            return (Rename(config, vit, paths), renamed);
        }
        return (config, file);
    }

    // The longest dotted prefix of key that is one of the module paths (a factor's, a base bias's or a saved module's).
    private static string? ModuleOf(string key, HashSet<string> modules)
    {
        for (int dot = key.LastIndexOf('.'); dot > 0; dot = key.LastIndexOf('.', dot - 1))
            if (modules.Contains(key[..dot])) return key[..dot];
        return null;
    }

    private static string Rename(string key, string module, IReadOnlyDictionary<string, string> paths) => paths[module] + key[module.Length..];

    // Module names in the config select modules by PEFT's rules against their paths; the same modules under ours are
    // listed by full path instead.
    private static LoraConfig Rename(LoraConfig config, VisionTransformer vit, IReadOnlyDictionary<string, string> paths)
    {
        List<string> Select(ModuleSelector selector) =>
            paths.Where(p => selector.Matches(p.Key, vit.get_submodule(p.Value))).Select(p => p.Value).ToList();
        // A name that selects none of their modules is kept: it may name a module both layouts call the same.
        IEnumerable<string> Named(string name) => Select(ModuleSelector.Names(name)) is { Count: > 0 } found ? found : [name];
        ModuleSelector? Translate(ModuleSelector? selector) =>
            selector is null || selector.all_linear ? selector : Select(selector) is { Count: > 0 } found ? ModuleSelector.Names(found) : selector;
        IReadOnlyDictionary<string, T> Patterns<T>(IReadOnlyDictionary<string, T> patterns)
        {
            var result = new Dictionary<string, T>(StringComparer.Ordinal);
            foreach ((string key, T value) in patterns)
                foreach (string path in Named(key)) result.TryAdd(path, value);
            return result;
        }
        return config with
        {
            target_modules = Translate(config.target_modules),
            exclude_modules = Translate(config.exclude_modules),
            modules_to_save = config.modules_to_save?.SelectMany(Named).ToList(),
            rank_pattern = Patterns(config.rank_pattern),
            alpha_pattern = Patterns(config.alpha_pattern),
        };
    }
}
