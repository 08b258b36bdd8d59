using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.IO;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Tool;

/// <summary>
/// A PEFT LoRA adapter folder (adapter_config.json and adapter_model.safetensors, or adapter_model.bin) as the weight
/// updates it makes: per adapted module, ΔW = s·B·A (PEFT's <c>get_delta_weight</c>) with s = lora_alpha / r, or
/// lora_alpha / √r with use_rslora, rank_pattern and alpha_pattern applied per module (<see cref="LoraConfig.ForModule"/>)
/// and r the rank the file holds. Linear (lora_A.weight [r, in], lora_B.weight [out, r]), Conv2d (A [r, c_in, kh, kw],
/// B [c_out, r, 1, 1]) and Embedding (lora_embedding_A [r, num], lora_embedding_B [dim, r]; ΔW = (s·B·A)ᵀ) modules.
/// </summary>
internal sealed class AdapterDeltas : IDisposable
{
    private const string Prefix = "base_model.model.";
    private readonly Dictionary<string, Tensor> _tensors;
    private readonly Dictionary<string, Module> _modules = [];

    /// <summary>One adapted module: <paramref name="Name"/> is <c>&lt;module path&gt;.weight</c>, as the base checkpoint names the weight.</summary>
    public sealed record Module(string Name, long[] Shape, int Rank, double Scaling, string A, string B, bool Embedding);

    public AdapterDeltas(string folder)
    {
        LoraConfig config = LoraConfig.from_pretrained(folder);
        string safetensors = Path.Combine(folder, "adapter_model.safetensors"), bin = Path.Combine(folder, "adapter_model.bin");
        _tensors = File.Exists(safetensors) ? SafeTensors.load_file(safetensors)
            : File.Exists(bin) ? PyTorchFile.load_state_dict(bin)
            : throw new FileNotFoundException($"{folder}: no adapter_model.safetensors or adapter_model.bin next to adapter_config.json");
        foreach (string key in _tensors.Keys.Order())
        {
            (string suffix, string other, bool embedding) = key.EndsWith(".lora_A.weight", StringComparison.Ordinal) ? (".lora_A.weight", ".lora_B.weight", false)
                : key.EndsWith(".lora_embedding_A", StringComparison.Ordinal) ? (".lora_embedding_A", ".lora_embedding_B", true) : (null!, null!, false);
            if (suffix is null) continue;
            string path = key[..^suffix.Length];
            string b = path + other;
            if (!_tensors.TryGetValue(b, out Tensor? bTensor))
                throw new InvalidDataException($"{folder}: adapter_model has {key} but no {b}");
            Tensor a = _tensors[key];
            string module = path.StartsWith(Prefix, StringComparison.Ordinal) ? path[Prefix.Length..] : path;
            int rank = (int)a.shape[0];
            if (bTensor.shape[1] != rank)
                throw new InvalidDataException($"{folder}: {key} has rank {rank} but {b} is [{string.Join(", ", bTensor.shape)}]");
            long[] shape = embedding ? [a.shape[1], bTensor.shape[0]] : [bTensor.shape[0], .. a.shape[1..]];
            _modules[module + ".weight"] = new Module(module + ".weight", shape, rank, config.ForModule(module).Scaling(rank), key, b, embedding);
        }
        if (_modules.Count == 0) throw new InvalidDataException($"{folder}: adapter_model holds no lora_A/lora_B pair");
    }

    public IReadOnlyList<Module> Modules => _modules.Values.ToList();

    /// <summary>ΔW of module weight <paramref name="name"/> in float32, in the caller's dispose scope; null for another name.</summary>
    public Tensor? Delta(string name)
    {
        if (!_modules.TryGetValue(name, out Module? m)) return null;
        using var scope = NewDisposeScope();
        Tensor a = _tensors[m.A].to(ScalarType.Float32), b = _tensors[m.B].to(ScalarType.Float32);
        Tensor product = b.reshape(b.shape[0], m.Rank).matmul(a.reshape(m.Rank, -1)) * m.Scaling;
        Tensor delta = m.Embedding ? product.T.contiguous() : product.reshape(m.Shape);
        return delta.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (Tensor t in _tensors.Values) t.Dispose();
    }
}
