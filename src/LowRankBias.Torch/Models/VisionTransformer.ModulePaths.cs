namespace LowRankBias.Torch.Models;

public sealed partial class VisionTransformer
{
    /// <summary>
    /// The module paths <paramref name="layout"/> uses for this model's modules, mapped to this model's paths (e.g.
    /// torchvision's <c>encoder.layers.encoder_layer_0.mlp.0</c> to <c>blocks.0.mlp.fc1</c>), by the same name map
    /// <see cref="from_pretrained"/> reads checkpoints with. Only modules that exist whole in both are listed, so the
    /// fused q/k/v projections of torchvision and timm are not. Files keyed by another library's module paths, such
    /// as PEFT adapters, find their modules here through it.
    /// </summary>
    public IReadOnlyDictionary<string, string> module_paths(VitLayout layout)
    {
        const string weight = ".weight";
        var modules = named_modules().Select(m => m.name).ToHashSet(StringComparer.Ordinal);
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (VitName name in VitNameMap.For(layout, config.num_layers))
            if (name.Part < 0 && name.Ours.EndsWith(weight, StringComparison.Ordinal) && modules.Contains(name.Ours[..^weight.Length]))
                paths[name.Theirs[..^weight.Length]] = name.Ours[..^weight.Length];
        return paths;
    }
}
