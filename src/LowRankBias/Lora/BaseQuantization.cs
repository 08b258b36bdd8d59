using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;

namespace LowRankBias.Lora;

/// <summary>Swaps a layer LoRA or LTE is about to wrap for its quantized form when a config asks for it.</summary>
internal static class BaseQuantization
{
    /// <summary>Throws if <paramref name="module"/> at <paramref name="path"/> cannot take <paramref name="config"/>:
    /// its base is quantized already, or it carries adapters whose base would change under them.</summary>
    public static void Check(Module module, QuantizationConfig? config, string path)
    {
        if (config is null) return;
        if (LoraTargets.Unwrapped(module) is QuantizedLayer quantized)
            throw new InvalidOperationException($"'{path}' is already quantized ({quantized.quant_config.quant_type}); leave base_quantization unset for layers whose base is quantized");
        if (module is LoraLayer)
            throw new InvalidOperationException($"'{path}' already carries adapters on a full-precision base; base_quantization applies when a layer is first wrapped");
    }

    /// <summary><paramref name="module"/> as the layer to wrap: a new <see cref="QuantizedLinear"/> for a Linear when
    /// <paramref name="config"/> is set (the caller frees the Linear once the swap is committed), else the module itself.</summary>
    public static Module Apply(Module module, QuantizationConfig? config, string path)
    {
        Check(module, config, path);
        if (config is null || module is not Linear linear) return module;
        try
        {
            return new QuantizedLinear(linear, config);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"'{path}': {e.Message}", e); // the layer knows its shape, not its path
        }
    }
}
