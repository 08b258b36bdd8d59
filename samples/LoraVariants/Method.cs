using LowRankBias.Lora;

namespace LoraVariants;

/// <summary>
/// A fine-tuning method of the comparison: LoRA's config at equal rank (r 8, α 16, q, k, v, o, fc1, fc2; the head
/// trained in full) and what the method changes in it. <see cref="Configure"/> is null while the library lacks the method.
/// </summary>
internal sealed record Method(string Name, string Description, Func<LoraConfig, LoraConfig>? Configure)
{
    public static LoraConfig Lora => new()
    {
        r = 8, lora_alpha = 16, target_modules = new[] { "q", "k", "v", "o", "fc1", "fc2" }, modules_to_save = new[] { "head" },
    };

    public static IReadOnlyList<Method> All { get; } =
    [
        new("lora", "LoRA: A kaiming-uniform, B = 0", c => c),
        new("dora", "DoRA: the magnitude of each output row trained apart from the direction W + sBA", c => c with { use_dora = true }),
        new("pissa", "PiSSA: A, B from the top-r singular triplets of W, which keeps the residual", Init("pissa")),
        new("olora", "OLoRA: A, B from the QR decomposition of W", Init("olora")),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(m => m.Name).ToArray();

    public static Method Get(string name) => All.FirstOrDefault(m => m.Name == name && m.Configure is not null)
        ?? throw new ArgumentException($"method '{name}' is not in this build of the library (available: {string.Join(", ", All.Where(m => m.Configure is not null).Select(m => m.Name))})");

    // An init_lora_weights name, usable once the library accepts it.
    private static Func<LoraConfig, LoraConfig>? Init(string name) => LoraInit.Names.Contains(name) ? c => c with { init_lora_weights = name } : null;
}
