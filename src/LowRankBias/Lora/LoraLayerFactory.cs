using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;

namespace LowRankBias.Lora;

/// <summary>The layer types LoRA can wrap, and the wrapper each one gets.</summary>
public static class LoraLayerFactory
{
    /// <summary>Names of the wrappable types, for error messages.</summary>
    public static IReadOnlyList<string> SupportedTypes { get; } = [nameof(Linear), nameof(Conv2d), nameof(Embedding), nameof(QuantizedLinear)];

    /// <summary>Whether <paramref name="module"/> can carry LoRA.</summary>
    public static bool IsSupported(Module module) => module is Linear or QuantizedLinear or Conv2d or Embedding;

    /// <summary>Wraps <paramref name="module"/> with one adapter: linear layers get a <see cref="MultiHeadLoraLinear"/>
    /// when the config has several heads.</summary>
    public static LoraLayer Create(Module module, LoraConfig config, string adapter_name) => Create(module, config, adapter_name, null);

    // fullPrecisionWeight: the weight a QuantizedLinear was made from just now (LoraModel with base_quantization), for data-aware inits.
    internal static LoraLayer Create(Module module, LoraConfig config, string adapter_name, Tensor? fullPrecisionWeight) => module switch
    {
        Linear linear when config.num_heads > 1 => new MultiHeadLoraLinear(linear, config, adapter_name),
        Linear linear => new LoraLinear(linear, config, adapter_name),
        QuantizedLinear quantized when config.num_heads > 1 => new MultiHeadLoraLinear(quantized, config, adapter_name),
        QuantizedLinear quantized => new LoraLinear(quantized, config, adapter_name, fullPrecisionWeight),
        Conv2d conv => new LoraConv2d(conv, config, adapter_name),
        Embedding embedding => new LoraEmbedding(embedding, config, adapter_name),
        _ => throw new ArgumentException($"cannot apply LoRA to a {module.GetType().Name}; supported layers: {string.Join(", ", SupportedTypes)}", nameof(module)),
    };
}
