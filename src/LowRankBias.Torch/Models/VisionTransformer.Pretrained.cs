using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Models;

// Checkpoints of other libraries in and out: torchvision, timm and Hugging Face name the same parameters
// differently and fuse q, k, v in different ways (VitNameMap); the architecture is read from the tensors' shapes.
public sealed partial class VisionTransformer
{
    /// <summary>
    /// Builds a ViT from a checkpoint file — safetensors, or a <c>torch.save</c> file (<c>.pt</c>/<c>.pth</c>/<c>.bin</c>,
    /// read by <see cref="PyTorchFile"/>) — in any <see cref="VitLayout"/> (detected from the names unless given).
    /// See <see cref="from_state_dict"/> for how the architecture is found; without <paramref name="num_heads"/>, a
    /// safetensors file's <c>num_heads</c> metadata (<see cref="save_pretrained"/> writes it) or a <c>config.json</c>
    /// beside the file (Hugging Face's <c>num_attention_heads</c>, timm's <c>num_heads</c>) gives it.
    /// </summary>
    public static VisionTransformer from_pretrained(string path, VitLayout? layout = null, long? num_heads = null, double? norm_eps = null,
        Device? device = null, ScalarType? dtype = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using DisposeScope scope = torch.NewDisposeScope();
        return FromStateDict(PretrainedFile.Load(path), layout, num_heads ?? VitConfigFile.NumHeads(path), norm_eps, device, dtype, path);
    }

    /// <summary>
    /// Builds a ViT from a state dict in any <see cref="VitLayout"/>, splitting fused q/k/v projections. The
    /// architecture comes from the shapes (width from the class token, patch size and channels from the patch
    /// embedding, image size from the position embedding, MLP width, classes, number of blocks from the names);
    /// the number of heads cannot be seen in any shape: it is <paramref name="num_heads"/>, else that of the standard size
    /// (ViT-Ti/S/B/L/H, <see cref="Config.ViT_Tiny"/>) the width, depth and MLP width name; for any other shape it must be
    /// given. DataParallel's <c>module.</c> prefix on every key is dropped. LayerNorm epsilon is <paramref name="norm_eps"/>, else the layout's default (1e-12 for Hugging
    /// Face, 1e-6 otherwise). Missing or unexpected keys raise one <see cref="InvalidDataException"/> listing them all.
    /// </summary>
    public static VisionTransformer from_state_dict(IReadOnlyDictionary<string, Tensor> state_dict, VitLayout? layout = null, long? num_heads = null,
        double? norm_eps = null, Device? device = null, ScalarType? dtype = null) =>
        FromStateDict(state_dict, layout, num_heads, norm_eps, device, dtype, "state dict");

    /// <summary>
    /// This model's parameters under the names of <paramref name="layout"/> (q, k, v fused where the layout fuses
    /// them), ready for that library's <c>load_state_dict</c>. Fails if a layer was replaced (merge LoRA first).
    /// </summary>
    public Dictionary<string, Tensor> export_state_dict(VitLayout layout)
    {
        OrderedDictionary<string, Tensor> ours = state_dict();
        IReadOnlyList<VitName> map = VitNameMap.For(layout, config.num_layers);
        var missing = map.Select(n => n.Ours).Where(k => !ours.ContainsKey(k)).ToList();
        var extra = ours.Keys.Except(map.Select(n => n.Ours)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new InvalidOperationException($"cannot export to the {layout} layout: the model's parameters differ from a plain ViT's " +
                $"(missing [{string.Join(", ", missing)}], extra [{string.Join(", ", extra)}]); merge and unload adapters first");
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (IGrouping<string, VitName> group in map.GroupBy(n => n.Theirs))
            result[group.Key] = group.First().Part < 0 ? ours[group.First().Ours] : torch.cat(group.OrderBy(n => n.Part).Select(n => ours[n.Ours]).ToArray(), 0);
        return result;
    }

    /// <summary>Writes <see cref="export_state_dict"/> of <paramref name="layout"/>, atomically: a <c>torch.save</c> file
    /// (<see cref="PyTorchFile.save"/>) when <paramref name="path"/> ends in .pt, .pth or .bin, safetensors otherwise,
    /// whose metadata then records the head count (no shape holds it: a .pt file of a non-standard size needs
    /// <c>num_heads</c> when loaded again).</summary>
    public void save_pretrained(string path, VitLayout layout = VitLayout.Torchvision)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using DisposeScope scope = torch.NewDisposeScope();
        Dictionary<string, Tensor> state = export_state_dict(layout);
        PretrainedFile.Save(state, path, new Dictionary<string, string> { [VitConfigFile.MetadataKey] = config.num_heads.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    private static VisionTransformer FromStateDict(IReadOnlyDictionary<string, Tensor> state_dict, VitLayout? layout, long? num_heads,
        double? norm_eps, Device? device, ScalarType? dtype, string source)
    {
        ArgumentNullException.ThrowIfNull(state_dict);
        state_dict = PretrainedFile.WithoutDataParallelPrefix(state_dict);
        VitLayout chosen = layout ?? VitNameMap.Detect(state_dict.Keys.ToList(), source);
        var theirs = state_dict.ToDictionary(p => VitNameMap.Canonical(chosen, p.Key), p => p.Value, StringComparer.Ordinal);
        long layers = VitNameMap.CountLayers(chosen, theirs.Keys);
        IReadOnlyList<VitName> map = VitNameMap.For(chosen, layers);

        var missing = map.Select(n => n.Theirs).Distinct().Where(k => !theirs.ContainsKey(k)).ToList();
        var unexpected = theirs.Keys.Except(map.Select(n => n.Theirs)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException($"{source}: does not fit a {chosen} Vision Transformer with {layers} blocks: " +
                $"missing keys [{string.Join(", ", missing)}], unexpected keys [{string.Join(", ", unexpected)}]");

        using DisposeScope scope = torch.NewDisposeScope();
        var ours = map.ToDictionary(n => n.Ours, n => n.Part < 0 ? theirs[n.Theirs] : Third(theirs[n.Theirs], n.Part, n.Theirs, source));
        Config config = Infer(ours, layers, num_heads, norm_eps ?? (chosen == VitLayout.HuggingFace ? 1e-12 : 1e-6), source);
        return PretrainedFile.LoadInto(new VisionTransformer(config, device, dtype), ours, $"{source} ({chosen} layout)");
    }

    private static Tensor Third(Tensor fused, int part, string key, string source)
    {
        long rows = fused.dim() > 0 ? fused.size(0) : 0;
        if (rows == 0 || rows % 3 != 0) throw new InvalidDataException($"{source}: '{key}' has {rows} rows, not three equal parts (q, k, v)");
        return fused.narrow(0, part * (rows / 3), rows / 3);
    }

    private static Config Infer(Dictionary<string, Tensor> ours, long layers, long? numHeads, double normEps, string source)
    {
        long[] Shape(string key, int rank) => ours[key].dim() == rank ? ours[key].shape
            : throw new InvalidDataException($"{source}: the tensor for '{key}' has shape [{string.Join(", ", ours[key].shape)}], expected {rank} dimensions");
        long width = Shape("class_token", 3)[2];
        long[] patch = Shape("conv_proj.weight", 4);
        long tokens = Shape("pos_embedding", 3)[1];
        long grid = (long)Math.Round(Math.Sqrt(tokens - 1));
        if (patch[2] != patch[3] || grid * grid != tokens - 1)
            throw new InvalidDataException($"{source}: square patches and a square grid of patches plus a class token expected, found a " +
                $"{patch[2]}×{patch[3]} patch embedding and {tokens} position embeddings");
        long mlp = layers > 0 ? Shape("blocks.0.mlp.fc1.weight", 2)[0] : 1;
        long heads = numHeads ?? VitSizes.Heads(width, layers, mlp)
            ?? throw new InvalidDataException($"{source}: the number of heads is in no tensor's shape, and width {width} with {layers} blocks " +
                $"and MLP {mlp} is no standard size (width/blocks/MLP: {VitSizes.Listing}); pass num_heads");
        return new Config
        {
            image_size = grid * patch[2], patch_size = patch[2], in_channels = patch[1], hidden_dim = width,
            num_layers = layers, num_heads = heads, mlp_dim = mlp,
            num_classes = Shape("head.weight", 2)[0], norm_eps = normEps,
        };
    }
}
