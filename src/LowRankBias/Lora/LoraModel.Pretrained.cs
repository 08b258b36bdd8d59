using LowRankBias.Torch;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Lora;

// PEFT's adapter directories: adapter_model.safetensors with keys base_model.model.<module path>.lora_A.weight /
// .lora_B.weight (embeddings: .lora_embedding_A / .lora_embedding_B), the biases the bias setting trains and the
// modules_to_save parameters under their model keys, metadata {"format": "pt"}; and adapter_config.json. The
// "default" adapter goes to the directory itself, any other into a subdirectory named after it (as PEFT does).
public sealed partial class LoraModel
{
    /// <summary>PEFT's name of the weights file in an adapter directory.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    private const string KeyPrefix = "base_model.model.";
    private readonly HashSet<string> _inferenceAdapters = [];

    /// <summary>
    /// Writes each adapter (default: all) as a PEFT adapter directory under <paramref name="save_directory"/>:
    /// "default" into the directory itself, others into <c>save_directory/&lt;adapter&gt;</c>. Files are written atomically.
    /// </summary>
    public void save_pretrained(string save_directory, IReadOnlyList<string>? selected_adapters = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(save_directory);
        foreach (string name in selected_adapters ?? _configs.Keys.ToList())
        {
            CheckAdapter(name);
            string directory = name == "default" ? save_directory : Path.Combine(save_directory, name);
            Directory.CreateDirectory(directory);
            using var scope = torch.NewDisposeScope();
            var tensors = FileEntries(name).ToDictionary(e => e.key, e => e.tensor.detach());
            SafeTensors.save_file(tensors, Path.Combine(directory, WeightsFileName), new Dictionary<string, string> { ["format"] = "pt" });
            _configs[name].save_pretrained(directory);
        }
    }

    /// <summary>
    /// Adds adapter <paramref name="adapter_name"/> from a PEFT adapter directory: injects it per the directory's
    /// config, then copies the file's tensors in (every shape is checked before anything is copied). Unless
    /// <paramref name="is_trainable"/>, the adapter is loaded for inference and its parameters stay frozen.
    /// Returns the keys the model expected but the file lacks, and the file's keys the model does not use.
    /// </summary>
    public AdapterLoadResult load_adapter(string model_id, string adapter_name = "default", bool is_trainable = false)
    {
        LoraConfig config = LoraConfig.from_pretrained(model_id);
        string weightsPath = Path.Combine(model_id, WeightsFileName);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"no {WeightsFileName} in '{model_id}'", weightsPath);
        using var scope = torch.NewDisposeScope();
        Dictionary<string, Tensor> file = SafeTensors.load_file(weightsPath);

        add_adapter(adapter_name, config);
        if (!is_trainable) _inferenceAdapters.Add(adapter_name);
        MarkTrainable();

        List<(string key, Tensor tensor)> expected = FileEntries(adapter_name).ToList();
        var missing = expected.Where(e => !file.ContainsKey(e.key)).Select(e => e.key).ToList();
        var unexpected = file.Keys.Except(expected.Select(e => e.key)).ToList();
        var pairs = expected.Where(e => file.ContainsKey(e.key)).Select(e => (e.key, target: e.tensor, source: file[e.key])).ToList();
        foreach ((string key, Tensor target, Tensor source) in pairs)
            if (!target.shape.AsSpan().SequenceEqual(source.shape))
                throw new InvalidDataException($"{weightsPath}: '{key}' has shape [{string.Join(", ", source.shape)}] but the model expects " +
                    $"[{string.Join(", ", target.shape)}] (adapter '{adapter_name}' was injected; its factors keep their initial values)");
        foreach ((string key, _, Tensor source) in pairs) AdapterTensors.RequireFinite(source, weightsPath, key);
        using (torch.no_grad())
            foreach ((_, Tensor target, Tensor source) in pairs) target.copy_(source);
        return new AdapterLoadResult(missing, unexpected);
    }

    /// <summary>
    /// Adapts <paramref name="model"/> with the PEFT adapter in directory <paramref name="model_id"/> (see
    /// <see cref="load_adapter"/>). With <paramref name="strict"/> (the default) missing or unexpected keys are an
    /// error and the model is restored to its plain form (modules and requires_grad flags).
    /// </summary>
    public static LoraModel from_pretrained(Module model, string model_id, string adapter_name = "default", bool is_trainable = false, bool strict = true)
    {
        var flags = model.parameters().Select(p => (p, p.requires_grad)).ToList();
        var lora = new LoraModel(model);
        AdapterLoadResult result = lora.load_adapter(model_id, adapter_name, is_trainable);
        if (strict && !result.is_complete)
        {
            lora.unload();
            foreach ((Tensor p, bool requiresGrad) in flags) p.requires_grad = requiresGrad;
            throw new InvalidDataException($"adapter in '{model_id}' does not fit the model: missing keys [{string.Join(", ", result.missing_keys)}], " +
                $"unexpected keys [{string.Join(", ", result.unexpected_keys)}]");
        }
        return lora;
    }

    // Everything an adapter's file holds, with the model tensor each key belongs to (the same set PEFT's
    // get_peft_model_state_dict selects: factors, biases named by the bias setting, modules to save).
    private IEnumerable<(string key, Tensor tensor)> FileEntries(string adapter)
    {
        LoraConfig config = _configs[adapter];
        var layers = lora_layers().Where(l => l.layer.adapter_configs.ContainsKey(adapter)).ToList();
        foreach ((string path, LoraLayer layer) in layers)
            foreach ((string key, Tensor factor) in layer.FileEntries(adapter))
                yield return (KeyPrefix + path + "." + key, factor);

        var extra = new List<(string key, Tensor tensor)>();
        if (config.bias == LoraBias.All)
            extra.AddRange(Model.named_parameters().Where(p => p.name == "bias" || p.name.EndsWith(".bias", StringComparison.Ordinal)));
        if (config.bias == LoraBias.LoraOnly)
            foreach ((string path, LoraLayer layer) in layers)
                extra.AddRange(layer.base_layer.named_parameters(recurse: false).Where(p => p.name == "bias").Select(p => (path + ".base_layer.bias", p.parameter)));
        foreach (string path in _saved[adapter])
            extra.AddRange(Model.get_submodule(path).named_parameters(path));
        foreach ((string key, Tensor tensor) in extra.DistinctBy(e => e.key))
            yield return (KeyPrefix + key, tensor);
    }
}
