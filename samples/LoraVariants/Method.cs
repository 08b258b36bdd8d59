using LowRankBias.Lora;

namespace LoraVariants;

/// <summary>
/// A fine-tuning method of the comparison: LoRA's config at equal rank (r 8, α 16, q, k, v, o, fc1, fc2; the head
/// trained in full) and what the method changes in it.
/// </summary>
internal sealed record Method(string Name, string Description, Func<LoraConfig, LoraConfig> Configure)
{
    public static LoraConfig Lora => new()
    {
        r = 8, lora_alpha = 16, target_modules = new[] { "q", "k", "v", "o", "fc1", "fc2" }, modules_to_save = new[] { "head" },
    };

    public static IReadOnlyList<Method> All { get; } =
    [
        new("lora", "LoRA: A kaiming-uniform, B = 0", c => c),
        new("dora", "DoRA: the magnitude of each output row trained apart from the direction W + sBA", c => c with { use_dora = true }),
        new("pissa", "PiSSA: B, A from the top-r singular triplets of W (full SVD), the base keeping the rest", c => c with { init_lora_weights = LoraInit.Pissa }),
        new("olora", "OLoRA: B, A from the QR decomposition of W, the base keeping the rest", c => c with { init_lora_weights = LoraInit.Olora }),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(m => m.Name).ToArray();

    public static Method Get(string name) => All.FirstOrDefault(m => m.Name == name)
        ?? throw new ArgumentException($"unknown method '{name}': use {string.Join(", ", Names)}");
}
