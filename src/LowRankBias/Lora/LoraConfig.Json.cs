using System.Text.Json;
using System.Text.Json.Nodes;
using LowRankBias.Lora.Variants;
using LowRankBias.Torch.IO;

namespace LowRankBias.Lora;

// PEFT's adapter_config.json: snake_case keys; target_modules is a list or a string; init_lora_weights is true
// (kaiming), false (random) or a name. Settings beyond PEFT's (heads) are written only when they are not the
// defaults, so a plain LoRA config stays a plain PEFT config. The LoRA variants' keys (use_dora) come from their
// registration list. Reading ignores PEFT keys that do not change the computation and rejects those that would
// (fan_in_fan_out, layer subsets, other PEFT types).
public sealed partial record LoraConfig
{
    /// <summary>PEFT's name of the config file in an adapter directory.</summary>
    public const string ConfigFileName = "adapter_config.json";

    private static readonly string[] s_unsupportedWhenSet = ["fan_in_fan_out", "lora_bias", "layers_to_transform", "layers_pattern", "use_qalora"];

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
        foreach (LoraVariants.Registration variant in LoraVariants.Registered) json[variant.Key] = variant.IsRequested(this);
        if (num_heads != 1) json["num_heads"] = num_heads;
        if (head_input != HeadInput.Shared) json["head_input"] = head_input.ToString().ToLowerInvariant();
        if (head_ranks is not null) json["head_ranks"] = new JsonArray(head_ranks.Select(k => (JsonNode?)k).ToArray());
        if (allow_rank_above_min) json["allow_rank_above_min"] = true;
        if (init_lora_weights == LoraInit.LoftQ)
        {
            LoftQConfig loftq = loftq_config ?? new LoftQConfig();
            json["loftq_config"] = new JsonObject { ["loftq_bits"] = loftq.loftq_bits, ["loftq_iter"] = loftq.loftq_iter };
        }
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// Reads PEFT's <c>adapter_config.json</c> text; <paramref name="source"/> names it in errors. <c>peft_type</c>,
    /// <c>r</c> and <c>lora_alpha</c> are required (PEFT writes every field, and a defaulted rank or scale would pair
    /// the weights with the wrong adapter silently); other keys default as in PEFT. A missing key, a value of the wrong
    /// type or an unknown value is an <see cref="InvalidDataException"/> of one line naming the file and the key.
    /// </summary>
    public static LoraConfig from_json_string(string json, string source = "adapter_config.json")
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: the config is not a JSON object");
            _ = root.Count; // reads the keys now: a key given twice throws here, not at the first lookup
        }
        catch (JsonException e) { throw new InvalidDataException($"{source}: invalid JSON: {e.Message}", e); }
        catch (ArgumentException e) { throw new InvalidDataException($"{source}: invalid JSON object: {e.Message}", e); }
        var read = new ConfigJsonReader(root, source);
        string peftType = read.String("peft_type") ?? throw new InvalidDataException($"{source}: missing required key 'peft_type' (a string: \"LORA\")");
        if (peftType != "LORA") throw read.Error("peft_type", $"{peftType} adapters are not supported, only LORA");
        foreach (string key in s_unsupportedWhenSet)
            if (read.Present(key) is JsonNode value && value.GetValueKind() != JsonValueKind.False)
                throw read.Error(key, $"{value.ToJsonString()} is not supported");
        var defaults = new LoraConfig();
        var config = new LoraConfig
        {
            r = read.RequiredInt("r", "the rank of every adapter"),
            lora_alpha = read.RequiredDouble("lora_alpha", "the scale numerator, s = lora_alpha / r"),
            target_modules = ReadSelector(read, "target_modules"),
            exclude_modules = ReadSelector(read, "exclude_modules"),
            lora_dropout = read.Double("lora_dropout") ?? defaults.lora_dropout,
            bias = read.OneOf("bias", [LoraBias.None, LoraBias.All, LoraBias.LoraOnly]) ?? defaults.bias,
            use_rslora = read.Bool("use_rslora") ?? defaults.use_rslora,
            init_lora_weights = read.Present("init_lora_weights") switch
            {
                null => defaults.init_lora_weights,
                JsonNode b when b.GetValueKind() == JsonValueKind.True => LoraInit.Kaiming,
                JsonNode b when b.GetValueKind() == JsonValueKind.False => LoraInit.Random,
                JsonNode b when b.GetValueKind() != JsonValueKind.String => throw read.Expected("init_lora_weights", "true, false or a name", b),
                _ => read.String("init_lora_weights")!, // checked by Validate (pissa_niter_N has no fixed list)
            },
            modules_to_save = read.List("modules_to_save", read.StringOf, "strings"),
            rank_pattern = read.Map("rank_pattern", read.IntOf, "integer") ?? defaults.rank_pattern,
            alpha_pattern = read.Map("alpha_pattern", read.DoubleOf, "number") ?? defaults.alpha_pattern,
            num_heads = read.Int("num_heads") ?? defaults.num_heads,
            head_input = read.OneOf("head_input", Enum.GetNames<HeadInput>().Select(n => n.ToLowerInvariant()).ToArray(), ignoreCase: true) is string mode
                ? Enum.Parse<HeadInput>(mode, ignoreCase: true) : defaults.head_input,
            head_ranks = read.List("head_ranks", read.IntOf, "integers"),
            allow_rank_above_min = read.Bool("allow_rank_above_min") ?? false,
            loftq_config = ReadLoftQ(read, source),
        };
        foreach (LoraVariants.Registration variant in LoraVariants.Registered)
            if (read.Bool(variant.Key) == true) config = variant.Request(config);
        try { config.Validate(); }
        catch (ArgumentException e) { throw read.Error(e.ParamName ?? "?", OneLine(e)); }
        return config;
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

    // PEFT writes loftq_config as {} when LoftQ is not used.
    private static LoftQConfig? ReadLoftQ(ConfigJsonReader read, string source)
    {
        if (read.Present("loftq_config") is not { } node) return null;
        if (node is not JsonObject settings) throw read.Expected("loftq_config", "an object", node);
        if (settings.Count == 0) return null;
        var inner = new ConfigJsonReader(settings, $"{source} (loftq_config)");
        var defaults = new LoftQConfig();
        return new LoftQConfig { loftq_bits = inner.Int("loftq_bits") ?? defaults.loftq_bits, loftq_iter = inner.Int("loftq_iter") ?? defaults.loftq_iter };
    }

    private static ModuleSelector? ReadSelector(ConfigJsonReader read, string key) => read.Present(key) switch
    {
        null => null,
        JsonArray => ModuleSelector.Names(read.List(key, read.StringOf, "strings")!),
        JsonNode node when node.GetValueKind() == JsonValueKind.String => Selector(read, key, node.GetValue<string>()),
        JsonNode node => throw read.Expected(key, "a list of module names or a regular expression string", node),
    };

    private static ModuleSelector Selector(ConfigJsonReader read, string key, string pattern)
    {
        try { return pattern; }
        catch (ArgumentException e) { throw read.Error(key, OneLine(e)); }
    }

    // An ArgumentException's message without the parameter suffix and the "Actual value" line .NET appends.
    private static string OneLine(ArgumentException e)
    {
        string message = e.Message.Split('\n')[0];
        string suffix = $" (Parameter '{e.ParamName}')";
        return message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }
}
