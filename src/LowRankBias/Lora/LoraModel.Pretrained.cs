using LowRankBias.Torch;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Lora;

// PEFT's adapter directories: adapter_model.safetensors with keys base_model.model.<module path>.lora_A.weight /
// .lora_B.weight (embeddings: .lora_embedding_A / .lora_embedding_B; a variant adds its tensors, e.g. DoRA's
// .lora_magnitude_vector, without ".weight" as PEFT writes it), the biases the bias setting trains and the
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
    /// <para>With <paramref name="path_initial_model_for_weight_conversion"/> (PEFT's option), the directory of the same
    /// adapter saved right after a PiSSA/OLoRA init and before training, each adapter is written as a plain LoRA adapter
    /// of the ORIGINAL base weights: ΔW = s(B A − B₀A₀) = s·[B | −B₀][A; A₀], so r and α double (α·√2 with rsLoRA) and
    /// init_lora_weights becomes true (see <c>subtract_mutated_init</c> in PEFT). Everything is read and checked before
    /// anything is written.</para>
    /// </summary>
    public void save_pretrained(string save_directory, IReadOnlyList<string>? selected_adapters = null, string? path_initial_model_for_weight_conversion = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(save_directory);
        IReadOnlyList<string> names = selected_adapters ?? _configs.Keys.ToList();
        foreach (string name in names) CheckAdapter(name);
        using var scope = torch.NewDisposeScope();
        var files = names.Select(name => (name, tensors: FileEntries(name).ToDictionary(e => e.key, e => e.tensor.detach()), config: _configs[name])).ToList();
        if (path_initial_model_for_weight_conversion is not null)
            files = files.Select(f => ConvertedToPlainLora(f.name, f.tensors, path_initial_model_for_weight_conversion)).ToList();
        foreach ((string name, Dictionary<string, Tensor> tensors, LoraConfig config) in files)
        {
            string directory = name == "default" ? save_directory : Path.Combine(save_directory, name);
            Directory.CreateDirectory(directory);
            SafeTensors.save_file(tensors, Path.Combine(directory, WeightsFileName), new Dictionary<string, string> { ["format"] = "pt" });
            config.save_pretrained(directory);
        }
    }

    /// <summary>
    /// Adds adapter <paramref name="adapter_name"/> from a PEFT adapter directory: injects it per the directory's
    /// config and copies the file's tensors in. Every tensor's shape and dtype is checked against the adapter the
    /// config describes before anything changes, so a file that does not fit leaves the model as it was. Unless
    /// <paramref name="is_trainable"/>, the adapter is loaded for inference and its parameters stay frozen.
    /// Returns the keys the model expected but the file lacks, and the file's keys the model does not use.
    /// </summary>
    public AdapterLoadResult load_adapter(string model_id, string adapter_name = "default", bool is_trainable = false) =>
        LoadAdapter(model_id, adapter_name, is_trainable, strict: false);

    /// <summary>
    /// Adapts <paramref name="model"/> with the PEFT adapter in directory <paramref name="model_id"/> (see
    /// <see cref="load_adapter"/>). With <paramref name="strict"/> (the default) missing or unexpected keys are an
    /// error too. On any error the model is left exactly as it was (modules, values and requires_grad flags).
    /// </summary>
    public static LoraModel from_pretrained(Module model, string model_id, string adapter_name = "default", bool is_trainable = false, bool strict = true)
    {
        var lora = new LoraModel(model);
        lora.LoadAdapter(model_id, adapter_name, is_trainable, strict);
        return lora;
    }

    private AdapterLoadResult LoadAdapter(string model_id, string adapter_name, bool is_trainable, bool strict)
    {
        LoraConfig config = LoraConfig.from_pretrained(model_id);
        string weightsPath = Path.Combine(model_id, WeightsFileName);
        if (!Path.Exists(weightsPath)) throw new FileNotFoundException($"no {WeightsFileName} in '{model_id}'", weightsPath);
        using var scope = torch.NewDisposeScope();
        Dictionary<string, Tensor> file = SafeTensors.load_file(weightsPath);
        (config, file) = ForeignAdapterPaths.ToModel(Model, config, file, KeyPrefix);

        AdapterPlan plan = PlanAdapter(adapter_name, config);
        AdapterLoadResult result;
        try { result = CheckFile(plan, file, weightsPath, model_id, strict); }
        catch
        {
            Discard(plan);
            throw;
        }
        if (!is_trainable) _inferenceAdapters.Add(adapter_name);
        Commit(plan);
        using (torch.no_grad())
            foreach ((string key, Tensor target) in FileEntries(adapter_name))
                if (file.TryGetValue(key, out Tensor? source)) target.copy_(source);
        return result;
    }

    // The file against the planned adapter's entries: shapes and dtypes always, missing and unexpected keys when strict.
    private AdapterLoadResult CheckFile(AdapterPlan plan, Dictionary<string, Tensor> file, string weightsPath, string model_id, bool strict)
    {
        var expected = PlannedEntries(plan).ToList();
        var missing = expected.Where(e => !file.ContainsKey(e.key)).Select(e => e.key).ToList();
        var unexpected = file.Keys.Except(expected.Select(e => e.key)).ToList();
        foreach ((string key, long[] shape) in expected.Where(e => file.ContainsKey(e.key)))
        {
            Tensor source = file[key];
            if (!source.dtype.IsFloatingPoint())
                throw new InvalidDataException($"{weightsPath}: '{key}' has dtype {source.dtype}, a floating-point tensor is expected");
            if (!source.shape.AsSpan().SequenceEqual(shape))
                throw new InvalidDataException($"{weightsPath}: '{key}' has shape [{string.Join(", ", source.shape)}] but the model expects " +
                    $"[{string.Join(", ", shape)}]");
            AdapterTensors.RequireFinite(source, weightsPath, key);
        }
        var result = new AdapterLoadResult(missing, unexpected);
        if (strict && !result.is_complete)
            throw new InvalidDataException($"adapter in '{model_id}' does not fit the model: missing keys [{string.Join(", ", missing)}], " +
                $"unexpected keys [{string.Join(", ", unexpected)}]");
        return result;
    }

    // Everything an adapter's file holds, with the model tensor each key belongs to (the same set PEFT's
    // get_peft_model_state_dict selects: factors, biases named by the bias setting, modules to save).
    private IEnumerable<(string key, Tensor tensor)> FileEntries(string adapter)
    {
        var layers = lora_layers().Where(l => l.layer.adapter_configs.ContainsKey(adapter)).ToList();
        foreach ((string path, LoraLayer layer) in layers)
            foreach ((string key, Tensor factor) in layer.FileEntries(adapter))
                yield return (KeyPrefix + path + "." + key, factor);
        foreach ((string key, Tensor tensor) in SharedEntries(_configs[adapter].bias, layers, _saved[adapter]))
            yield return (key, tensor);
    }

    // The keys and shapes FileEntries will give once the plan is committed.
    private IEnumerable<(string key, long[] shape)> PlannedEntries(AdapterPlan plan)
    {
        var layers = plan.Layers().ToList();
        foreach ((string path, LoraLayer layer) in layers)
            foreach ((string key, long[] shape) in layer.FileShapes(plan.Config.ForModule(path)))
                yield return (KeyPrefix + path + "." + key, shape);
        foreach ((string key, Tensor tensor) in SharedEntries(plan.Config.bias, layers, plan.Saved))
            yield return (key, tensor.shape);
    }

    // The model tensors an adapter's file holds besides the factors: biases its bias setting trains, modules to save.
    private IEnumerable<(string key, Tensor tensor)> SharedEntries(string bias, List<(string path, LoraLayer layer)> layers, List<string> saved)
    {
        var extra = new List<(string key, Tensor tensor)>();
        if (bias == LoraBias.All)
            extra.AddRange(Model.named_parameters().Where(p => p.name == "bias" || p.name.EndsWith(".bias", StringComparison.Ordinal)));
        if (bias == LoraBias.LoraOnly)
            foreach ((string path, LoraLayer layer) in layers)
                extra.AddRange(layer.base_layer.named_parameters(recurse: false).Where(p => p.name == "bias").Select(p => (path + ".base_layer.bias", p.parameter)));
        foreach (string path in saved)
            extra.AddRange(Model.get_submodule(path).named_parameters(path));
        return extra.DistinctBy(e => e.key).Select(e => (KeyPrefix + e.key, e.tensor));
    }
}
