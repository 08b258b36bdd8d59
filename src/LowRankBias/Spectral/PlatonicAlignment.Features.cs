using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Spectral;

public static partial class PlatonicAlignment
{
    /// <summary>
    /// The layers platonic-rep would read, pooled as its <c>extract_features.py</c> pools: a
    /// <see cref="VisionTransformer"/>'s blocks at the class token (<c>cls</c>); an <see cref="MlpMixer"/>'s blocks
    /// averaged over tokens (<c>avg</c>); an <see cref="MLP"/>'s linear layers (pre-activation, the last one the
    /// logits); a <see cref="ConvNet"/>'s convolutions (pre-activation maps averaged over space), then fc1 and fc2. Any
    /// other model: the entries of its <see cref="ModuleList"/> children (its blocks), pooled by
    /// <see cref="FeaturePooling.Auto"/>; a model without any must be given taps.
    /// </summary>
    public static IReadOnlyList<FeatureTap> DefaultTaps(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model switch
        {
            VisionTransformer vit => ListTaps("blocks", vit.blocks, FeaturePooling.ClassToken),
            MlpMixer mixer => ListTaps("blocks", mixer.blocks),
            MLP mlp => ListTaps("layers", mlp.layers),
            ConvNet cnn => [.. ListTaps("convs", cnn.convs), new("fc1", cnn.fc1), new("fc2", cnn.fc2)],
            _ => model.named_children().Where(c => c.module is ModuleList).SelectMany(c => ListTaps(c.name, (ModuleList)c.module)).ToArray() is { Length: > 0 } taps
                ? taps
                : throw new ArgumentException($"{model.GetType().Name} has no ModuleList of blocks to read features from: pass the feature taps", nameof(model)),
        };
    }

    private static FeatureTap[] ListTaps(string prefix, ModuleList list, FeaturePooling pooling = FeaturePooling.Auto) =>
        list.Select((m, i) => new FeatureTap($"{prefix}.{i}", m, pooling)).ToArray();

    /// <summary>
    /// Runs <paramref name="model"/> (in eval mode, without gradients, restoring its mode after) on
    /// <paramref name="inputs"/> [n, ...] in batches of <paramref name="batchSize"/> on the model's device, and returns
    /// each tap's pooled output over all inputs: one [n, d_l] float32 CPU tensor per tap, in the caller's dispose scope.
    /// Forward hooks read the taps; they are removed before returning.
    /// </summary>
    public static Tensor[] ExtractFeatures(Module model, Tensor inputs, IReadOnlyList<FeatureTap>? taps = null, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.dim() < 1 || inputs.size(0) < 1) throw new ArgumentException($"expected a batch of inputs [n, ...], got {SpectralTensors.ShapeText(inputs)}", nameof(inputs));
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be at least 1");
        taps ??= DefaultTaps(model);
        if (taps.Count == 0) throw new ArgumentException("no feature taps", nameof(taps));
        Device device = model.parameters().FirstOrDefault()?.device ?? inputs.device;
        var parts = taps.Select(_ => new List<Tensor>()).ToArray();
        var handles = new List<RemovableHandle>();
        bool wasTraining = model.training;
        try
        {
            for (int t = 0; t < taps.Count; t++)
            {
                int index = t;
                FeaturePooling pooling = taps[t].Pooling;
                handles.Add(taps[t].Module.register_forward_hook((Module _, Tensor _, Tensor output) =>
                    parts[index].Add(Pool(output, pooling, taps[index].Name).to(Device.CPU, ScalarType.Float32, copy: true).DetachFromDisposeScope())));
            }
            model.eval();
            using var noGrad = torch.no_grad();
            for (long start = 0; start < inputs.size(0); start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                int before = parts[0].Count;
                model.call(inputs.narrow(0, start, Math.Min(batchSize, inputs.size(0) - start)).to(device));
                for (int t = 0; t < taps.Count; t++)
                    if (parts[t].Count != before + 1)
                        throw new ArgumentException($"feature tap {taps[t].Name} ran {parts[t].Count - before} times in one forward pass (expected once): is it part of the model?", nameof(taps));
            }
            return parts.Select(p => torch.cat(p.ToArray())).ToArray();
        }
        finally
        {
            foreach (RemovableHandle h in handles) h.Dispose();
            model.train(wasTraining);
            foreach (Tensor part in parts.SelectMany(p => p)) part.Dispose();
        }
    }

    /// <summary>One vector per sample from a layer's output.</summary>
    private static Tensor Pool(Tensor output, FeaturePooling pooling, string name) => (pooling, output.dim()) switch
    {
        (FeaturePooling.ClassToken, 3) => output.select(1, 0),
        (FeaturePooling.Auto, 2) => output.alias(),
        (FeaturePooling.Auto, 3) => output.mean(1),
        (FeaturePooling.Auto, 4) => output.mean([2, 3]),
        _ => throw new ArgumentException($"feature tap {name}: cannot pool an output of shape {SpectralTensors.ShapeText(output)} by {pooling}", "taps"),
    };

    /// <summary>
    /// One model's neighbour lists on <paramref name="inputs"/>: <see cref="ExtractFeatures"/>, then per layer
    /// <see cref="RemoveOutliers"/> and <see cref="NearestNeighbours"/> (platonic-rep's <c>prepare_features</c> on the
    /// list of layers, then <c>compute_score</c>'s normalisation). The features are freed once the lists are found.
    /// </summary>
    public static ModelNeighbours Neighbours(string name, Module model, Tensor inputs, PlatonicOptions? options = null, IReadOnlyList<FeatureTap>? taps = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(model);
        options ??= new PlatonicOptions();
        options.Validate();
        CheckInputs(inputs, options);
        taps ??= DefaultTaps(model);
        using var scope = torch.NewDisposeScope();
        Tensor[] features = ExtractFeatures(model, inputs, taps, options.BatchSize);
        return FromFeatures(name, taps.Select(t => t.Name).ToArray(), features, options);
    }

    /// <summary>
    /// Neighbour lists from features already extracted (one [n, d_l] tensor per layer, e.g. loaded from platonic-rep's
    /// files): per layer <see cref="RemoveOutliers"/> then <see cref="NearestNeighbours"/>.
    /// </summary>
    public static ModelNeighbours FromFeatures(string name, IReadOnlyList<string> layerNames, IReadOnlyList<Tensor> layers, PlatonicOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(layerNames);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("no layers", nameof(layers));
        if (layerNames.Count != layers.Count) throw new ArgumentException($"{layerNames.Count} names for {layers.Count} layers", nameof(layerNames));
        options ??= new PlatonicOptions();
        options.Validate();
        for (int l = 0; l < layers.Count; l++)
        {
            SpectralTensors.Check(layers[l], $"{nameof(layers)}[{l}]", 2, 2, "features [n, d]");
            if (layers[l].size(0) != layers[0].size(0))
                throw new ArgumentException($"layers[{l}] has {layers[l].size(0)} rows, layers[0] {layers[0].size(0)}: every layer must describe the same samples", nameof(layers));
        }
        using var scope = torch.NewDisposeScope();
        var lists = new Tensor[layers.Count];
        for (int l = 0; l < layers.Count; l++)
        {
            using var layerScope = torch.NewDisposeScope();
            lists[l] = NearestNeighbours(RemoveOutliers(layers[l], options.OutlierQuantile, options.ExactQuantile), options.K, options.BlockRows)
                .MoveToOuterDisposeScope();
        }
        return new ModelNeighbours(name, layerNames.ToArray(), lists);
    }
}
