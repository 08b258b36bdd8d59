using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>
/// One model's representation of a fixed input set, reduced to what mutual k-NN needs: for every layer, each sample's
/// k nearest other samples ([n, k] int64 on the CPU, nearest first). The features themselves are not kept, so a zoo
/// of models costs n·k·8 bytes per model-layer. Made by <see cref="PlatonicAlignment.Neighbours(string, Torch.Modules.Module, Tensor, PlatonicOptions?, IReadOnlyList{FeatureTap}?)"/>.
/// </summary>
public sealed class ModelNeighbours : IDisposable
{
    private readonly Tensor[] _layers;

    internal ModelNeighbours(string name, IReadOnlyList<string> layerNames, Tensor[] layers)
    {
        Name = name;
        LayerNames = layerNames;
        _layers = layers;
        foreach (Tensor t in layers) t.DetachFromDisposeScope();
    }

    /// <summary>The model's name in results.</summary>
    public string Name { get; }

    /// <summary>The layers' names (the feature taps').</summary>
    public IReadOnlyList<string> LayerNames { get; }

    /// <summary>Number of samples n.</summary>
    public long Samples => _layers[0].size(0);

    /// <summary>Neighbours per sample k.</summary>
    public long K => _layers[0].size(1);

    /// <summary>Layer <paramref name="layer"/>'s neighbour lists [n, k] (owned by this object).</summary>
    public Tensor this[int layer] => _layers[layer];

    /// <summary>Number of layers.</summary>
    public int Count => _layers.Length;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (Tensor t in _layers) t.Dispose();
    }
}
