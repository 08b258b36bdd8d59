using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Overparam;

/// <summary>
/// A <see cref="Conv2d"/> W [m, n, kh, kw] expanded to a kh×kw convolution n → h (W_1 [h, n, kh, kw], carrying the
/// original stride, padding and dilation) followed by d − 1 1×1 convolutions (W_2 … W_{d−1} [h, h, 1, 1], W_d
/// [m, h, 1, 1]) (Huh thesis, App. 7.2, convolutional rule). Only groups = 1 is supported. See
/// <see cref="ExpandedLayer"/> for the initialisation.
/// </summary>
public sealed class ExpandedConv2d : ExpandedLayer
{
    private static readonly long[] s_one = [1, 1], s_zero = [0, 0];

    /// <summary>Expands <paramref name="source"/> (which is left unchanged) with the depth, width and gain of
    /// <paramref name="options"/>; its dtype and device are kept and its bias is copied onto the last factor.</summary>
    public ExpandedConv2d(Conv2d source, ExpansionOptions? options = null)
        : this(source, options ?? new ExpansionOptions(), "")
    {
    }

    internal ExpandedConv2d(Conv2d source, ExpansionOptions options, string path)
        : base(source.weight, source.bias, Shapes(source, options, path), InnerWidth(source, options, path), options.Gain)
    {
        geometry = source.geometry;
    }

    /// <summary>The source's channels, kernel, stride, padding and dilation (groups 1): the first factor's kernel, stride,
    /// padding and dilation, and the effective kernel's; later factors are 1×1 with stride 1 and no padding.</summary>
    public ConvGeometry geometry { get; }

    /// <inheritdoc />
    public override Module Collapse()
    {
        var plain = new Conv2d(geometry.in_channels, geometry.out_channels, geometry.kernel_size, geometry.stride, geometry.padding, geometry.dilation, groups: 1,
            bias: bias is not null, device: factors[0].device, dtype: factors[0].dtype);
        return CopyInto(plain, plain.weight, plain.bias);
    }

    private protected override Tensor ApplyFactor(Tensor input, int index, Tensor? addBias) => index == 0
        ? geometry.conv2d(input, factors[0], addBias)
        : F.conv2d(input, factors[index], addBias, s_one, s_zero, s_one);

    private protected override void CheckInput(Tensor input)
    {
        if (input.dim() is not (3 or 4))
            throw new ArgumentException($"ExpandedConv2d expects an N×C×H×W (or C×H×W) input, got shape [{string.Join(", ", input.shape)}]", nameof(input));
        long channels = input.size(input.dim() - 3);
        if (channels != geometry.in_channels)
            throw new ArgumentException($"ExpandedConv2d expects {geometry.in_channels} input channels, got {channels} (input shape [{string.Join(", ", input.shape)}])", nameof(input));
    }

    private static long InnerWidth(Conv2d source, ExpansionOptions options, string path)
    {
        ArgumentNullException.ThrowIfNull(source);
        options.Validate();
        if (source.groups != 1)
            throw new NotSupportedException(
                $"{ExpansionOptions.Where(path)}Conv2d with groups = {source.groups} cannot be expanded (only groups = 1 is supported); exclude it with {nameof(ExpansionOptions.Exclude)}");
        long flattenedInputs = source.in_channels * source.kernel_size[0] * source.kernel_size[1];
        return options.WidthFor(source.in_channels, Math.Min(source.out_channels, flattenedInputs), path);
    }

    private static long[][] Shapes(Conv2d source, ExpansionOptions options, string path)
    {
        long h = InnerWidth(source, options, path);
        int d = options.Depth;
        return Enumerable.Range(0, d)
            .Select(i => i == 0
                ? new[] { d == 1 ? source.out_channels : h, source.in_channels, source.kernel_size[0], source.kernel_size[1] }
                : new[] { i == d - 1 ? source.out_channels : h, h, 1L, 1L })
            .ToArray();
    }
}
