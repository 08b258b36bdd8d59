using System.Text.Json;
using LowRankBias.Lora;
using LowRankBias.Onnx;
using LowRankBias.Torch;
using LowRankBias.Torch.IO;

namespace LowRankBias.Tool;

/// <summary>
/// The tensors of a checkpoint, loaded one at a time: safetensors files — single, or the shards a Hugging Face
/// <c>model.safetensors.index.json</c> names — are memory-mapped (a file of many GB costs the memory of its largest
/// tensor); torch.save files are read whole (their zip records are not mapped), and so are .onnx files, whose
/// initializers are the tensors. A folder is read as its
/// <c>model.safetensors.index.json</c> or <c>model.safetensors</c>, or, holding <c>adapter_config.json</c>, as a PEFT
/// LoRA adapter (<see cref="AdapterDeltas"/>): each adapted module is then one tensor <c>&lt;module&gt;.weight</c>, its ΔW = s·B·A.
/// NF4 and int8 weights are dequantized as they are loaded (<see cref="QuantizedWeights"/>).
/// </summary>
internal sealed class WeightSource : IDisposable
{
    private readonly List<SafeTensorsReader> _readers = [];
    private readonly Dictionary<string, SafeTensorsReader> _mapped = [];
    private readonly Dictionary<string, Tensor>? _loaded;

    public WeightSource(string path)
    {
        if (Directory.Exists(path))
        {
            if (File.Exists(Path.Combine(path, "adapter_config.json")))
            {
                Adapter = new AdapterDeltas(path);
                Entries = Adapter.Modules.Select(m => (m.Name, m.Shape, ScalarType.Float32)).ToList();
                return;
            }
            string index = Path.Combine(path, "model.safetensors.index.json"), single = Path.Combine(path, "model.safetensors");
            path = File.Exists(index) ? index : File.Exists(single) ? single
                : throw new FileNotFoundException($"{path}: a folder without model.safetensors.index.json, model.safetensors or adapter_config.json");
        }
        if (!Path.Exists(path)) throw new FileNotFoundException($"no such file: {path}", path);
        try
        {
            if (path.EndsWith(".index.json", StringComparison.Ordinal)) OpenShards(path);
            // ONNX has no magic bytes: its extension tells it.
            else if (Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase)) _loaded = OnnxFile.load_initializers(path);
            else if (WeightFile.detect(path) == WeightFormat.TorchSave) _loaded = PyTorchFile.load_state_dict(path);
            else Open(SafeTensors.safe_open(path));
        }
        catch
        {
            Dispose();
            throw;
        }
        var stored = _loaded is not null
            ? _loaded.Select(p => (p.Key, p.Value.shape, p.Value.dtype)).ToList()
            : _mapped.Select(p => (p.Key, p.Value.shape(p.Key), p.Value.dtype(p.Key))).ToList();
        _quantized = new QuantizedWeights(stored, LoadStored, path);
        Entries = _quantized.Present(stored);
    }

    private readonly QuantizedWeights? _quantized;

    /// <summary>Every tensor's name, shape and element type, in file order (shards in the order the index first names them).</summary>
    public IReadOnlyList<(string Name, long[] Shape, ScalarType DType)> Entries { get; }

    /// <summary>The adapter, when the source is a PEFT adapter folder.</summary>
    public AdapterDeltas? Adapter { get; }

    /// <summary>Tensor <paramref name="name"/> in the caller's dispose scope.</summary>
    public Tensor Load(string name) => Adapter?.Delta(name) ?? _quantized?.Dequantize(name, LoadStored) ?? LoadStored(name);

    private Tensor LoadStored(string name) => _mapped.TryGetValue(name, out var reader) ? reader.get_tensor(name) : _loaded![name].alias();

    public void Dispose()
    {
        foreach (SafeTensorsReader reader in _readers) reader.Dispose();
        _readers.Clear();
        if (_loaded is not null) foreach (Tensor t in _loaded.Values) t.Dispose();
        Adapter?.Dispose();
    }

    private void Open(SafeTensorsReader reader)
    {
        _readers.Add(reader);
        foreach (string key in reader.keys()) _mapped[key] = reader;
    }

    // Hugging Face's index: {"weight_map": {"tensor": "shard file", ...}}; every shard must exist and hold its tensors.
    private void OpenShards(string index)
    {
        Dictionary<string, string> map;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(index));
            map = json.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{index}: not a shard index ({{\"weight_map\": {{tensor: shard}}}}): {e.Message}", e);
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(index))!;
        foreach (string shard in map.Values.Distinct())
        {
            string file = Path.Combine(folder, shard);
            if (Path.GetFileName(shard) != shard || !File.Exists(file))
                throw new FileNotFoundException($"{index} names the shard {shard}, which is not in {folder}", file);
            Open(SafeTensors.safe_open(file));
        }
        string? absent = map.Keys.FirstOrDefault(k => !_mapped.ContainsKey(k));
        if (absent is not null) throw new InvalidDataException($"{index}: tensor '{absent}' is not in its shard {map[absent]}");
    }
}
