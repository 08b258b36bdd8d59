using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LowRankBias.Torch.IO;

namespace LowRankBias.Lora;

// PEFT's adapter_config.json: snake_case keys; target_modules is a list or a string; init_lora_weights is true
// (kaiming), false (random) or a name. Settings beyond PEFT's (heads) are written only when they are not the
// defaults, so a plain LoRA config stays a plain PEFT config. Reading ignores PEFT keys that do not change the
// computation and rejects those that would (DoRA, fan_in_fan_out, layer subsets, other PEFT types).
public sealed partial record LoraConfig
{
    /// <summary>PEFT's name of the config file in an adapter directory.</summary>
    public const string ConfigFileName = "adapter_config.json";

    private static readonly string[] s_unsupportedWhenSet = ["use_dora", "fan_in_fan_out", "lora_bias", "layers_to_transform", "layers_pattern", "use_qalora"];

    /// <summary>This config as PEFT's <c>adapter_config.json</c> text.</summary>
    public string to_json_string()
    {
        var json = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = null,
            ["base_model_name_or_path"] = null,
            ["inference_mode"] = true,
            ["r"] = r,
            ["lora_alpha"] = Number(lora_alpha),
            ["target_modules"] = Selector(target_modules),
            ["exclude_modules"] = Selector(exclude_modules),
            ["lora_dropout"] = lora_dropout,
            ["fan_in_fan_out"] = false,
            ["bias"] = bias,
            ["use_rslora"] = use_rslora,
            ["init_lora_weights"] = init_lora_weights switch { LoraInit.Kaiming => true, LoraInit.Random => false, _ => JsonValue.Create(init_lora_weights) },
            ["modules_to_save"] = modules_to_save is null ? null : new JsonArray(modules_to_save.Select(m => (JsonNode?)m).ToArray()),
            ["rank_pattern"] = new JsonObject(rank_pattern.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
            ["alpha_pattern"] = new JsonObject(alpha_pattern.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Number(p.Value)))),
        };
        if (num_heads != 1) json["num_heads"] = num_heads;
        if (head_input != HeadInput.Shared) json["head_input"] = head_input.ToString().ToLowerInvariant();
        if (head_ranks is not null) json["head_ranks"] = new JsonArray(head_ranks.Select(k => (JsonNode?)k).ToArray());
        if (allow_rank_above_min) json["allow_rank_above_min"] = true;
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads PEFT's <c>adapter_config.json</c> text; <paramref name="source"/> names it in errors.</summary>
    public static LoraConfig from_json_string(string json, string source = "adapter_config.json")
    {
        JsonObject root;
        try { root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: the config is not a JSON object"); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: invalid JSON: {e.Message}", e); }
        try
        {
            string peftType = root["peft_type"]?.GetValue<string>() ?? throw new InvalidDataException($"{source}: missing peft_type");
            if (peftType != "LORA") throw new InvalidDataException($"{source}: peft_type is {peftType}; only LORA adapters are supported");
            foreach (string key in s_unsupportedWhenSet)
                if (root[key] is JsonNode value && value.GetValueKind() is not (JsonValueKind.Null or JsonValueKind.False))
                    throw new InvalidDataException($"{source}: {key} = {value.ToJsonString()} is not supported");
            var defaults = new LoraConfig();
            var config = new LoraConfig
            {
                r = root["r"]?.GetValue<int>() ?? defaults.r,
                lora_alpha = root["lora_alpha"]?.GetValue<double>() ?? defaults.lora_alpha,
                target_modules = ReadSelector(root["target_modules"]),
                exclude_modules = ReadSelector(root["exclude_modules"]),
                lora_dropout = root["lora_dropout"]?.GetValue<double>() ?? defaults.lora_dropout,
                bias = root["bias"]?.GetValue<string>() ?? defaults.bias,
                use_rslora = root["use_rslora"]?.GetValue<bool>() ?? defaults.use_rslora,
                init_lora_weights = root["init_lora_weights"] switch
                {
                    null => defaults.init_lora_weights,
                    JsonNode b when b.GetValueKind() == JsonValueKind.True => LoraInit.Kaiming,
                    JsonNode b when b.GetValueKind() == JsonValueKind.False => LoraInit.Random,
                    JsonNode name => name.GetValue<string>(),
                },
                modules_to_save = root["modules_to_save"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray(),
                rank_pattern = root["rank_pattern"]?.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<int>()) ?? defaults.rank_pattern,
                alpha_pattern = root["alpha_pattern"]?.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<double>()) ?? defaults.alpha_pattern,
                num_heads = root["num_heads"]?.GetValue<int>() ?? defaults.num_heads,
                head_input = root["head_input"] is JsonNode mode ? Enum.Parse<HeadInput>(mode.GetValue<string>(), ignoreCase: true) : defaults.head_input,
                head_ranks = root["head_ranks"]?.AsArray().Select(n => n!.GetValue<int>()).ToArray(),
                allow_rank_above_min = root["allow_rank_above_min"]?.GetValue<bool>() ?? false,
            };
            config.Validate();
            return config;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Writes <see cref="ConfigFileName"/> into <paramref name="directory"/> (created if needed), atomically.</summary>
    public void save_pretrained(string directory)
    {
        Directory.CreateDirectory(directory);
        string text = to_json_string();
        AtomicFile.Write(Path.Combine(directory, ConfigFileName), stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Reads <see cref="ConfigFileName"/> from <paramref name="directory"/>.</summary>
    public static LoraConfig from_pretrained(string directory)
    {
        string path = Path.Combine(directory, ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"no {ConfigFileName} in '{directory}'", path);
        return from_json_string(File.ReadAllText(path), path);
    }

    // PEFT stores lora_alpha as an int; keep integral values integral so the file reads as PEFT writes it.
    private static JsonNode Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? JsonValue.Create((long)value) : JsonValue.Create(value);

    private static JsonNode? Selector(ModuleSelector? selector) => selector switch
    {
        null => null,
        { all_linear: true } => ModuleSelector.AllLinearShorthand,
        { regex: string regex } => regex,
        _ => new JsonArray(selector.names!.Select(n => (JsonNode?)n).ToArray()),
    };

    private static ModuleSelector? ReadSelector(JsonNode? node) => node switch
    {
        null => null,
        JsonArray list => ModuleSelector.Names(list.Select(n => n!.GetValue<string>())),
        _ => (ModuleSelector)node.GetValue<string>(),
    };
}
