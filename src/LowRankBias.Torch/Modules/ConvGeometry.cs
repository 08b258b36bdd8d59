using System.Globalization;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// What fixes a 2-D convolution apart from its weights, under <see cref="Conv2d"/>'s (PyTorch's) names: channels,
/// (kH, kW) kernel, stride, zero padding, dilation and groups. The layers that stand for a convolution
/// (<see cref="Conv2d"/>, <see cref="MkldnnConv2d"/>, <c>QuantizedConv2d</c>, <c>Overparam.ExpandedConv2d</c>) each hold one, copied from their source.
/// </summary>
public sealed record ConvGeometry(long in_channels, long out_channels, long[] kernel_size, long[] stride, long[] padding, long[] dilation, long groups)
{
    /// <summary>The convolution of <paramref name="input"/> with <paramref name="weight"/> (and <paramref name="bias"/>) under this geometry.</summary>
    public Tensor conv2d(Tensor input, Tensor weight, Tensor? bias = null) =>
        torch.nn.functional.conv2d(input, weight, bias, stride, padding, dilation, groups);

    // Checks a layer's input: N×C×H×W or C×H×W with in_channels channels.
    internal void CheckInput(Tensor input, string layer)
    {
        InputChecks.Rank(input, layer, "N×C×H×W (or C×H×W)", 3, 4);
        InputChecks.Size(input, input.dim() - 3, in_channels, layer, "input channels");
    }

    // The start of the layers' extra_repr, as PyTorch's: "in, out, kernel_size=(kH, kW), stride=(sH, sW)".
    internal string ReprPrefix() => string.Create(CultureInfo.InvariantCulture,
        $"{in_channels}, {out_channels}, kernel_size=({kernel_size[0]}, {kernel_size[1]}), stride=({stride[0]}, {stride[1]})");
}
