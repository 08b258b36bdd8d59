using LowRankBias.Onnx;
using LowRankBias.Torch;
using LowRankBias.Torch.IO;

namespace LowRankBias.Tool;

/// <summary>
/// The tensors of a checkpoint, loaded one at a time: safetensors files are memory-mapped (a file of many GB costs
/// the memory of its largest tensor); torch.save files are read whole (their zip records are not mapped), and so are
/// .onnx files, whose initializers are the tensors.
/// </summary>
internal sealed class WeightSource : IDisposable
{
    private readonly SafeTensorsReader? _mapped;
    private readonly Dictionary<string, Tensor>? _loaded;

    public WeightSource(string path)
    {
        if (!Path.Exists(path)) throw new FileNotFoundException($"no such file: {path}", path);
        // ONNX has no magic bytes: its extension tells it.
        if (Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase)) _loaded = OnnxFile.load_initializers(path);
        else if (WeightFile.detect(path) == WeightFormat.TorchSave) _loaded = PyTorchFile.load_state_dict(path);
        _mapped = _loaded is null ? SafeTensors.safe_open(path) : null;
        Entries = _mapped is not null
            ? _mapped.keys().Select(k => (k, _mapped.shape(k), _mapped.dtype(k))).ToList()
            : _loaded!.Select(p => (p.Key, p.Value.shape, p.Value.dtype)).ToList();
    }

    /// <summary>Every tensor's name, shape and element type, in file order.</summary>
    public IReadOnlyList<(string Name, long[] Shape, ScalarType DType)> Entries { get; }

    /// <summary>Tensor <paramref name="name"/> in the caller's dispose scope.</summary>
    public Tensor Load(string name) => _mapped?.get_tensor(name) ?? _loaded![name].alias();

    public void Dispose()
    {
        _mapped?.Dispose();
        if (_loaded is not null) foreach (Tensor t in _loaded.Values) t.Dispose();
    }
}
