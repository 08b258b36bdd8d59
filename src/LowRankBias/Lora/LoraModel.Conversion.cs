using LowRankBias.Torch;
using LowRankBias.Torch.IO;

namespace LowRankBias.Lora;

// PEFT's save_pretrained(path_initial_model_for_weight_conversion=…): LoraModel._convert_state_dict_for_initial_model,
// subtract_mutated_init and the config rewrite in PeftModel.save_pretrained (peft/peft_model.py, tuners/lora/model.py).
public sealed partial class LoraModel
{
    // With W = W_res + s·B₀A₀ and the trained model W_res + s·B A, the update of the original W is
    // s(B A − B₀A₀) = s·[B | −B₀]·[A; A₀]: a rank-2r adapter whose scale must stay s.
    private (string name, Dictionary<string, Tensor> tensors, LoraConfig config) ConvertedToPlainLora(
        string adapter, Dictionary<string, Tensor> tensors, string initialDirectory)
    {
        const string option = "path_initial_model_for_weight_conversion";
        LoraConfig config = _configs[adapter];
        if (config.use_rslora && (config.rank_pattern.Count > 0 || config.alpha_pattern.Count > 0))
            throw new ArgumentException($"{option} is not supported for adapter '{adapter}': it uses rank_pattern or alpha_pattern together with use_rslora (as in PEFT)", option);
        if (config.num_heads != 1)
            throw new ArgumentException($"{option}: adapter '{adapter}' has {config.num_heads} heads; only single-head adapters convert", option);
        LoraConfig initial = LoraConfig.from_pretrained(initialDirectory);
        string initialFile = Path.Combine(initialDirectory, WeightsFileName);
        if (initial.r != config.r || initial.lora_alpha != config.lora_alpha || initial.use_rslora != config.use_rslora
            || !SamePatterns(initial.rank_pattern, config.rank_pattern) || !SamePatterns(initial.alpha_pattern, config.alpha_pattern))
            throw new InvalidDataException($"{initialDirectory}: the initial adapter's r, lora_alpha, use_rslora or patterns differ from adapter '{adapter}''s; " +
                "pass the directory this adapter was saved to right after its initialisation");
        if (!Path.Exists(initialFile)) throw new FileNotFoundException($"no {WeightsFileName} in '{initialDirectory}'", initialFile);
        Dictionary<string, Tensor> start = SafeTensors.load_file(initialFile);

        var converted = new Dictionary<string, Tensor>(tensors);
        bool rankAboveMin = config.allow_rank_above_min;
        foreach ((string path, LoraLayer layer) in lora_layers().Where(l => l.layer.adapter_configs.ContainsKey(adapter)))
        {
            (string key, Tensor factor)[] factors = layer.FileEntries(adapter).Select(e => (KeyPrefix + path + "." + e.key, e.factor)).ToArray();
            (string keyA, string keyB) = (factors[0].key, factors[1].key);
            Tensor a0 = Initial(start, keyA, factors[0].factor, initialFile), b0 = Initial(start, keyB, factors[1].factor, initialFile);
            Tensor a = torch.cat([tensors[keyA], a0], 0);
            Tensor b = torch.cat([tensors[keyB], -b0], 1);
            (converted[keyA], converted[keyB]) = (a, b);
            rankAboveMin |= a.size(0) > Math.Min(b.size(0), a.numel() / a.size(0));
        }
        LoraConfig plain = config with
        {
            r = 2 * config.r,
            lora_alpha = config.use_rslora ? config.lora_alpha * Math.Sqrt(2) : 2 * config.lora_alpha,
            rank_pattern = config.rank_pattern.ToDictionary(p => p.Key, p => 2 * p.Value),
            alpha_pattern = config.alpha_pattern.ToDictionary(p => p.Key, p => 2 * p.Value),
            init_lora_weights = LoraInit.Kaiming,
            loftq_config = null,
            allow_rank_above_min = rankAboveMin,
        };
        return (adapter, converted, plain);
    }

    private static Tensor Initial(Dictionary<string, Tensor> file, string key, Tensor trained, string source)
    {
        if (!file.TryGetValue(key, out Tensor? value))
            throw new InvalidDataException($"{source}: the initial adapter has no '{key}'");
        if (!value.shape.AsSpan().SequenceEqual(trained.shape) || !value.dtype.IsFloatingPoint())
            throw new InvalidDataException($"{source}: '{key}' is {value.dtype} [{string.Join(", ", value.shape)}], the trained factor {trained.dtype} [{string.Join(", ", trained.shape)}]");
        AdapterTensors.RequireFinite(value, source, key);
        return value.to(trained.dtype);
    }

    private static bool SamePatterns<T>(IReadOnlyDictionary<string, T> x, IReadOnlyDictionary<string, T> y) =>
        x.Count == y.Count && x.All(p => y.TryGetValue(p.Key, out T? v) && EqualityComparer<T>.Default.Equals(p.Value, v));
}
