using System.Text.RegularExpressions;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Models;

// torchvision checkpoints in and out. Our module tree has torchvision's names, so no name map is needed: the
// architecture is read from the keys and shapes, and the state dict is torchvision's as it stands.
public sealed partial class ResNet
{
    /// <summary>
    /// Builds a ResNet from a torchvision checkpoint — a <c>torch.save</c> file of a state dict (<c>.pt</c>/<c>.pth</c>,
    /// read by <see cref="PyTorchFile"/>) or safetensors, told apart by their first bytes. See <see cref="from_state_dict"/>.
    /// </summary>
    public static ResNet from_pretrained(string path, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using DisposeScope scope = torch.NewDisposeScope();
        return FromStateDict(PretrainedFile.Load(path), device, dtype, path);
    }

    /// <summary>
    /// Builds a ResNet from a state dict with torchvision's names. The architecture comes from the keys and shapes:
    /// blocks per stage from the highest index under <c>layerN.</c>, bottleneck blocks from <c>layer1.0.conv3</c>,
    /// width and input channels from <c>conv1.weight</c>, classes from <c>fc.weight</c> (none without it: a feature extractor,
    /// <see cref="Config.num_classes"/> 0). DataParallel's <c>module.</c>
    /// prefix is dropped; a missing <c>num_batches_tracked</c> (checkpoints written before PyTorch 0.4.1, torchvision's
    /// ImageNet weights among them) is 0, as PyTorch's BatchNorm loads it. Missing or unexpected keys, or a tensor of
    /// the wrong shape, raise an <see cref="InvalidDataException"/> naming them.
    /// </summary>
    public static ResNet from_state_dict(IReadOnlyDictionary<string, Tensor> state_dict, Device? device = null, ScalarType? dtype = null) =>
        FromStateDict(state_dict, device, dtype, "state dict");

    /// <summary>
    /// The state dict under torchvision's names and in its order, ready for <c>torchvision.models.ResNet.load_state_dict</c>
    /// (BatchNorm running statistics and <c>num_batches_tracked</c> included). Fails if a layer was replaced by anything
    /// but a <see cref="FrozenBatchNorm2d"/> (merge and unload LoRA first).
    /// </summary>
    public OrderedDictionary<string, Tensor> export_state_dict()
    {
        var foreign = named_modules().Where(m => m.module is not (ResNet or Sequential or ResNetBlock or Conv2d or BatchNorm2d or FrozenBatchNorm2d
            or ReLU or MaxPool2d or AdaptiveAvgPool2d or Linear or Identity)).Select(m => $"'{m.name}' ({m.module.GetType().Name})").ToList();
        if (foreign.Count > 0)
            throw new InvalidOperationException($"cannot export to torchvision's ResNet: {string.Join(", ", foreign)} are not layers of it; merge and unload adapters first");
        return state_dict();
    }

    /// <summary>Writes <see cref="export_state_dict"/> atomically: a <c>torch.save</c> file (<see cref="PyTorchFile.save"/>,
    /// which <c>torch.load(path, weights_only=True)</c> reads) when <paramref name="path"/> ends in .pt, .pth or .bin,
    /// safetensors otherwise.</summary>
    public void save_pretrained(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using DisposeScope scope = torch.NewDisposeScope();
        PretrainedFile.Save(export_state_dict(), path);
    }

    private static ResNet FromStateDict(IReadOnlyDictionary<string, Tensor> state_dict, Device? device, ScalarType? dtype, string source)
    {
        ArgumentNullException.ThrowIfNull(state_dict);
        state_dict = PretrainedFile.WithoutDataParallelPrefix(state_dict);
        Config config = Infer(state_dict, source);
        using DisposeScope scope = torch.NewDisposeScope();
        var model = new ResNet(config, device, dtype);
        List<string> keys = model.state_dict().Keys.ToList();
        var state = new Dictionary<string, Tensor>(state_dict, StringComparer.Ordinal);
        foreach (string key in keys.Where(k => k.EndsWith(".num_batches_tracked", StringComparison.Ordinal) && !state.ContainsKey(k)))
            state[key] = torch.zeros([], ScalarType.Int64);
        var missing = keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !keys.Contains(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            model.Dispose();
            throw new InvalidDataException($"{source}: does not fit a torchvision ResNet of {(config.bottleneck ? "bottleneck" : "basic")} blocks " +
                $"[{string.Join(", ", config.layers)}]: missing keys [{string.Join(", ", missing)}], unexpected keys [{string.Join(", ", unexpected)}]");
        }
        return PretrainedFile.LoadInto(model, state, source);
    }

    private static Config Infer(IReadOnlyDictionary<string, Tensor> state, string source)
    {
        long[] Shape(string key, int rank)
        {
            if (!state.TryGetValue(key, out Tensor? t))
                throw new InvalidDataException($"{source}: no '{key}', so not a torchvision ResNet state dict; first keys: [{string.Join(", ", state.Keys.Take(8))}]");
            return t.dim() == rank ? t.shape
                : throw new InvalidDataException($"{source}: '{key}' has shape [{string.Join(", ", t.shape)}], expected {rank} dimensions");
        }
        long[] stem = Shape("conv1.weight", 4);
        // Block indices must run 0, 1, … without gaps, so the model built is no larger than the file's own tensors.
        var indices = Enumerable.Range(0, 4).Select(_ => new SortedSet<long>()).ToArray();
        foreach (Match m in state.Keys.Select(k => StageBlock().Match(k)).Where(m => m.Success))
            indices[m.Groups[1].ValueSpan[0] - '1'].Add(long.TryParse(m.Groups[2].ValueSpan, out long index) ? index : long.MaxValue);
        for (int stage = 0; stage < 4; stage++)
        {
            if (indices[stage].Count == 0)
                throw new InvalidDataException($"{source}: no blocks under 'layer{stage + 1}.', so not a torchvision ResNet state dict");
            if (indices[stage].Max != indices[stage].Count - 1)
                throw new InvalidDataException($"{source}: the blocks under 'layer{stage + 1}.' are numbered [{string.Join(", ", indices[stage])}], not 0, 1, … without gaps");
        }
        long[] blocks = indices.Select(s => (long)s.Count).ToArray();
        return new Config
        {
            bottleneck = state.ContainsKey("layer1.0.conv3.weight"), layers = blocks,
            width = stem[0], in_channels = stem[1], num_classes = state.ContainsKey("fc.weight") ? Shape("fc.weight", 2)[0] : 0,
        };
    }

    [GeneratedRegex(@"^layer([1-4])\.(\d+)\.")] private static partial Regex StageBlock();
}
