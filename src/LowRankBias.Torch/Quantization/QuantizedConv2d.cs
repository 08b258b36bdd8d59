using System.Globalization;
using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

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
        (in_channels, out_channels, kernel_size, stride, padding, dilation, groups) =
            (source.in_channels, source.out_channels, source.kernel_size, source.stride, source.padding, source.dilation, source.groups);
    }

    /// <summary>Input channels.</summary>
    public long in_channels { get; }

    /// <summary>Output channels.</summary>
    public long out_channels { get; }

    /// <summary>(kH, kW).</summary>
    public long[] kernel_size { get; }

    /// <summary>(stride_h, stride_w).</summary>
    public long[] stride { get; }

    /// <summary>(pad_h, pad_w).</summary>
    public long[] padding { get; }

    /// <summary>(dil_h, dil_w).</summary>
    public long[] dilation { get; }

    /// <summary>Groups of the convolution.</summary>
    public long groups { get; }

    /// <summary>The cross-correlation with the dequantized kernel, plus the bias.</summary>
    private protected override Tensor Forward(Tensor input, Tensor weight)
    {
        InputChecks.Rank(input, nameof(QuantizedConv2d), "N×C×H×W (or C×H×W)", 3, 4);
        InputChecks.Size(input, input.dim() - 3, in_channels, nameof(QuantizedConv2d), "input channels");
        using Tensor? bias = this.bias?.to(weight.dtype);
        return F.conv2d(input, weight, bias, stride, padding, dilation, groups);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"{in_channels}, {out_channels}, kernel_size=({kernel_size[0]}, {kernel_size[1]}), stride=({stride[0]}, {stride[1]}), {QuantRepr()}");

    private static Conv2d Checked(Conv2d source) => source ?? throw new ArgumentNullException(nameof(source));
}
