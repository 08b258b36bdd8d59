using System.Globalization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

/// <summary>Mean over kernel_size windows of N×C×H×W (or C×H×W) inputs (PyTorch's <c>nn.AvgPool2d</c>); stride
/// defaults to kernel_size; zero padding counts in the divisor unless count_include_pad is false.</summary>
public sealed class AvgPool2d : Module
{
    /// <summary>Square windows.</summary>
    public AvgPool2d(long kernel_size, long? stride = null, long padding = 0, bool ceil_mode = false, bool count_include_pad = true,
        long? divisor_override = null)
        : this([kernel_size], stride is long s ? [s] : null, [padding], ceil_mode, count_include_pad, divisor_override)
    {
    }

    /// <summary>Windows given per dimension: each argument takes one value (both dimensions) or a (height, width) pair.</summary>
    public AvgPool2d(long[] kernel_size, long[]? stride = null, long[]? padding = null, bool ceil_mode = false, bool count_include_pad = true,
        long? divisor_override = null)
    {
        this.kernel_size = InputChecks.Pair(kernel_size, nameof(kernel_size), 1);
        this.stride = stride is null ? this.kernel_size : InputChecks.Pair(stride, nameof(stride), 1);
        this.padding = InputChecks.Pair(padding ?? [0], nameof(padding), 0);
        if (this.padding[0] * 2 > this.kernel_size[0] || this.padding[1] * 2 > this.kernel_size[1])
            throw new ArgumentException("padding must be at most half the kernel size", nameof(padding));
        if (divisor_override is long d && d < 1) throw new ArgumentOutOfRangeException(nameof(divisor_override), d, "divisor_override must be positive");
        this.ceil_mode = ceil_mode;
        this.count_include_pad = count_include_pad;
        this.divisor_override = divisor_override;
    }

    /// <summary>(kH, kW).</summary>
    public long[] kernel_size { get; }

    /// <summary>(stride_h, stride_w).</summary>
    public long[] stride { get; }

    /// <summary>(pad_h, pad_w).</summary>
    public long[] padding { get; }

    /// <summary>Whether the output size rounds up instead of down.</summary>
    public bool ceil_mode { get; }

    /// <summary>Whether zero padding counts in the divisor.</summary>
    public bool count_include_pad { get; }

    /// <summary>A fixed divisor replacing the window size, or null.</summary>
    public long? divisor_override { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        InputChecks.Rank(input, nameof(AvgPool2d), "N×C×H×W (or C×H×W)", 3, 4);
        return F.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"kernel_size=({kernel_size[0]}, {kernel_size[1]}), stride=({stride[0]}, {stride[1]}), padding=({padding[0]}, {padding[1]})");
}
