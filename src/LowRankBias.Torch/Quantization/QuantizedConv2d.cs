using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Quantization;

/// <summary>
/// A <see cref="Conv2d"/> whose frozen kernel is stored quantized (see <see cref="QuantizationConfig"/>; an NF4 block
/// must divide a row of in_channels/groups·kH·kW) and dequantized in every forward pass.
/// </summary>
public sealed class QuantizedConv2d : QuantizedLayer
{
    /// <summary>Quantizes <paramref name="source"/>'s kernel (the source is left untouched; the bias is copied).</summary>
    public QuantizedConv2d(Conv2d source, QuantizationConfig config)
        : base(Checked(source).weight, source.bias, config, $"a Conv2d({source.in_channels} -> {source.out_channels}, kernel {source.kernel_size[0]}x{source.kernel_size[1]})")
    {
        geometry = source.geometry;
    }

    /// <summary>The source's channels, kernel, stride, padding, dilation and groups.</summary>
    public ConvGeometry geometry { get; }

    /// <summary>The cross-correlation with the dequantized kernel, plus the bias.</summary>
    private protected override Tensor Forward(Tensor input, Tensor weight)
    {
        geometry.CheckInput(input, nameof(QuantizedConv2d));
        using Tensor? bias = this.bias?.to(weight.dtype);
        return geometry.conv2d(input, weight, bias);
    }

    /// <inheritdoc />
    public override string extra_repr() => $"{geometry.ReprPrefix()}, {QuantRepr()}";

    private static Conv2d Checked(Conv2d source) => source ?? throw new ArgumentNullException(nameof(source));
}
