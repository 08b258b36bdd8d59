using System.Text.RegularExpressions;
using LowRankBias.Lora.Variants;
using LowRankBias.Torch.Quantization;

namespace LowRankBias.Lora;

/// <summary>
/// LoRA settings with PEFT's names and defaults (<c>LoraConfig</c>): y = W x + s·B A x with A [r, in], B [out, r]
/// and s = lora_alpha / r (or lora_alpha / √r with rsLoRA). The same record configures one layer (only the rank,
/// scale, dropout, bias, init and head settings are read) or a whole model (targets, exclusions, per-layer
/// patterns, modules to save). Records compose with <c>with</c>. <see cref="Validate"/> runs wherever a config is used.
/// </summary>
public sealed partial record LoraConfig
{
    /// <summary>Rank r of each adapter (of each head for multi-head layers). Default 8.</summary>
    public int r { get; init; } = 8;

    /// <summary>α in the scale s = α/r (or α/√r with <see cref="use_rslora"/>). Default 8.</summary>
    public double lora_alpha { get; init; } = 8;

    /// <summary>Modules to wrap: names or path suffixes, a whole-path regular expression, or "all-linear".</summary>
    public ModuleSelector? target_modules { get; init; }

    /// <summary>Modules never wrapped, with the same matching rules as <see cref="target_modules"/>; wins over it.</summary>
    public ModuleSelector? exclude_modules { get; init; }

    /// <summary>Dropout probability applied to the input of the LoRA path only (not to the base layer). Default 0.</summary>
    public double lora_dropout { get; init; }

    /// <summary>Which biases train: <see cref="LoraBias.None"/> (default), <see cref="LoraBias.All"/> or <see cref="LoraBias.LoraOnly"/>.</summary>
    public string bias { get; init; } = LoraBias.None;

    /// <summary>Rank-stabilised LoRA: s = α/√r instead of α/r.</summary>
    public bool use_rslora { get; init; }

    /// <summary>
    /// DoRA, weight-decomposed LoRA (Liu et al., 2024; PEFT's name): the layer applies m ⊙ (W + s·BA) / ‖W + s·BA‖ with a
    /// trained magnitude m per output channel (<c>lora_magnitude_vector</c>, initialised to the norms so a fresh adapter
    /// changes nothing); the norm is a constant in backward. Linear, Conv2d and Embedding layers, single-head adapters;
    /// LTE refuses it (its merge is additive). Default false.
    /// </summary>
    public bool use_dora { get; init; }

    /// <summary>Initialisation of A and B, one of <see cref="LoraInit.Names"/>. Default <see cref="LoraInit.Kaiming"/> (PEFT's).</summary>
    public string init_lora_weights { get; init; } = LoraInit.Kaiming;

    /// <summary>LoftQ's settings, read when <see cref="init_lora_weights"/> is <see cref="LoraInit.LoftQ"/> (null: the defaults).</summary>
    public LoftQConfig? loftq_config { get; init; }

    /// <summary>
    /// Modules (names or path suffixes) that stay fully trainable and are saved with the adapter, such as a new
    /// classifier head. Unlike PEFT, which copies them per adapter, they are shared by every adapter of a model.
    /// </summary>
    public IReadOnlyList<string>? modules_to_save { get; init; }

    /// <summary>Per-layer ranks of targeted modules: a key is a module name or a regular expression matched against the
    /// end of a path (PEFT's rule: the first key in order whose <c>(.*\.)?(key)$</c> matches the whole path). Keys never
    /// add targets; a key that matches no targeted module is an error.</summary>
    public IReadOnlyDictionary<string, int> rank_pattern { get; init; } = new Dictionary<string, int>();

    /// <summary>Per-layer α, matched like <see cref="rank_pattern"/>.</summary>
    public IReadOnlyDictionary<string, double> alpha_pattern { get; init; } = new Dictionary<string, double>();

    /// <summary>Number of heads N; above 1 linear targets become <see cref="MultiHeadLoraLinear"/> (an extension of PEFT's format).</summary>
    public int num_heads { get; init; } = 1;

    /// <summary>Whether heads share the input or each sees its own group of the batch (multi-head layers only).</summary>
    public HeadInput head_input { get; init; } = HeadInput.Shared;

    /// <summary>Optional per-head ranks (length <see cref="num_heads"/>) for heterogeneous multi-head layers; they
    /// replace <see cref="r"/>, and each head's scale uses its own rank.</summary>
    public IReadOnlyList<int>? head_ranks { get; init; }

    /// <summary>
    /// If set, the adapter stores the base weight of every <c>Linear</c> it newly wraps quantized (QLoRA:
    /// <see cref="QuantizedLinear"/>, dequantized on the fly; merges re-quantize) and frees the full-precision one.
    /// Other targets keep full-precision bases; a base that is already quantized is an error. Not written to PEFT's
    /// adapter file: the adapter itself is unchanged. Default none.
    /// </summary>
    public QuantizationConfig? base_quantization { get; init; }

    /// <summary>Permits r above min(out, in), which adds parameters without adding expressiveness (off by default).</summary>
    public bool allow_rank_above_min { get; init; }

    /// <summary>The scale s for an adapter of rank <paramref name="rank"/>: α/r, or α/√r with rsLoRA.</summary>
    public double Scaling(int rank) => use_rslora ? lora_alpha / Math.Sqrt(rank) : lora_alpha / rank;

    /// <summary>The ranks of the heads: <see cref="head_ranks"/>, or <see cref="r"/> repeated <see cref="num_heads"/> times.</summary>
    public IReadOnlyList<int> HeadRanks() => head_ranks ?? Enumerable.Repeat(r, num_heads).ToArray();

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (r <= 0) throw new ArgumentOutOfRangeException(nameof(r), r, "LoRA rank r must be positive");
        if (!(lora_alpha > 0) || double.IsInfinity(lora_alpha))
            throw new ArgumentOutOfRangeException(nameof(lora_alpha), lora_alpha, "lora_alpha must be positive and finite");
        if (!(lora_dropout >= 0 && lora_dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(lora_dropout), lora_dropout, "lora_dropout must be in [0, 1)");
        LoraBias.Check(bias);
        base_quantization?.Validate();
        LoraInit.Check(init_lora_weights);
        LoraVariants.Check(this);
        loftq_config?.Validate();
        if (num_heads <= 0) throw new ArgumentOutOfRangeException(nameof(num_heads), num_heads, "num_heads must be positive");
        if (head_ranks is not null)
        {
            if (head_ranks.Count != num_heads)
                throw new ArgumentException($"head_ranks has {head_ranks.Count} entries but num_heads is {num_heads}", nameof(head_ranks));
            if (head_ranks.Any(k => k <= 0))
                throw new ArgumentOutOfRangeException(nameof(head_ranks), $"every head rank must be positive, got [{string.Join(", ", head_ranks)}]");
        }
        foreach ((string key, int rank) in rank_pattern)
            if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank_pattern), $"rank_pattern['{key}'] = {rank}: ranks must be positive");
        foreach ((string key, double alpha) in alpha_pattern)
            if (!(alpha > 0) || double.IsInfinity(alpha))
                throw new ArgumentOutOfRangeException(nameof(alpha_pattern), $"alpha_pattern['{key}'] = {alpha}: lora_alpha must be positive and finite");
        foreach (string key in rank_pattern.Keys.Concat(alpha_pattern.Keys)) PatternRegex(key);
        if (modules_to_save is not null)
            foreach (string name in modules_to_save)
                if (string.IsNullOrEmpty(name)) throw new ArgumentException("modules_to_save contains an empty name", nameof(modules_to_save));
    }

    /// <summary>This config with <see cref="r"/> and <see cref="lora_alpha"/> taken from the patterns that match
    /// the module at <paramref name="path"/>.</summary>
    public LoraConfig ForModule(string path)
    {
        string? rankKey = PatternKey(rank_pattern.Keys, path);
        string? alphaKey = PatternKey(alpha_pattern.Keys, path);
        return this with
        {
            r = rankKey is null ? r : rank_pattern[rankKey],
            lora_alpha = alphaKey is null ? lora_alpha : alpha_pattern[alphaKey],
        };
    }

    /// <summary>The first pattern key, in the pattern's order, whose regex <c>(.*\.)?(key)$</c> matches the whole of
    /// <paramref name="path"/> (PEFT's <c>get_pattern_key</c>: an earlier general key wins over a later exact one), or null.</summary>
    internal static string? PatternKey(IEnumerable<string> keys, string path) => keys.FirstOrDefault(k => PatternRegex(k).IsMatch(path));

    private static Regex PatternRegex(string key)
    {
        try { return new Regex($@"^(?:.*\.)?(?:{key})$", RegexOptions.CultureInvariant); }
        catch (ArgumentException e) { throw new ArgumentException($"pattern key '{key}' is not a valid regular expression: {e.Message}", nameof(key), e); }
    }
}
