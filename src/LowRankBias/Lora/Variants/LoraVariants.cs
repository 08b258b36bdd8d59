namespace LowRankBias.Lora.Variants;

/// <summary>
/// The registration list of LoRA variants: each line names the config key that asks for a variant (PEFT's name, written
/// to and read from <c>adapter_config.json</c>), reads and sets that key on a <see cref="LoraConfig"/>, and makes an
/// instance. An adapter that asks for none is plain LoRA (<see cref="PlainLora"/>).
/// </summary>
internal static class LoraVariants
{
    /// <summary>One variant: its config key, whether a config asks for it, that config asking for it, a fresh instance.</summary>
    internal sealed record Registration(string Key, Func<LoraConfig, bool> IsRequested, Func<LoraConfig, LoraConfig> Request, Func<LoraVariant> Create);

    /// <summary>Every variant besides plain LoRA.</summary>
    public static IReadOnlyList<Registration> Registered { get; } =
    [
        new("use_dora", c => c.use_dora, c => c with { use_dora = true }, () => new Dora()),
    ];

    /// <summary>A fresh instance of the variant <paramref name="config"/> asks for.</summary>
    public static LoraVariant Create(LoraConfig config)
    {
        Registration[] requested = Requested(config);
        return requested.Length == 0 ? new PlainLora() : requested[0].Create();
    }

    /// <summary>Throws if <paramref name="config"/> asks for more than one variant.</summary>
    public static void Check(LoraConfig config)
    {
        Registration[] requested = Requested(config);
        if (requested.Length > 1)
            throw new ArgumentException($"{string.Join(" and ", requested.Select(r => r.Key))} cannot be combined: choose one LoRA variant", requested[1].Key);
    }

    /// <summary>The state-dict names of every variant's per-adapter tensors, which adapter names may not take.</summary>
    public static IEnumerable<string> TensorNames => Registered.SelectMany(r => r.Create().TensorNames);

    private static Registration[] Requested(LoraConfig config) => Registered.Where(r => r.IsRequested(config)).ToArray();
}
