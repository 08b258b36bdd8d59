using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;

namespace LowRankBias.Lora;

/// <summary>The (out, in) shape of a linear base layer, plain or quantized.</summary>
internal static class LinearShape
{
    public static (long rows, long cols) Of(Module layer) => layer switch
    {
        Linear linear => (linear.out_features, linear.in_features),
        QuantizedLinear quantized => (quantized.out_features, quantized.in_features),
        _ => throw new ArgumentException($"expected a Linear or QuantizedLinear, got a {layer.GetType().Name}", nameof(layer)),
    };
}
