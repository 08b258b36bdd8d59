using System.Globalization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

/// <summary>Maximum over kernel_size windows of N×C×H×W (or C×H×W) inputs (PyTorch's <c>nn.MaxPool2d</c>); stride
/// defaults to kernel_size, padding counts as −∞.</summary>
public sealed class MaxPool2d : Module
{
    /// <summary>Square windows.</summary>
    public MaxPool2d(long kernel_size, long? stride = null, long padding = 0, long dilation = 1, bool ceil_mode = false)
        : this([kernel_size], stride is long s ? [s] : null, [padding], [dilation], ceil_mode)
    {
    }

    /// <summary>Windows given per dimension: each argument takes one value (both dimensions) or a (height, width) pair.</summary>
    public MaxPool2d(long[] kernel_size, long[]? stride = null, long[]? padding = null, long[]? dilation = null, bool ceil_mode = false)
    {
        this.kernel_size = InputChecks.Pair(kernel_size, nameof(kernel_size), 1);
        this.stride = stride is null ? this.kernel_size : InputChecks.Pair(stride, nameof(stride), 1);
        this.padding = InputChecks.Pair(padding ?? [0], nameof(padding), 0);
        this.dilation = InputChecks.Pair(dilation ?? [1], nameof(dilation), 1);
        if (this.padding[0] * 2 > this.kernel_size[0] || this.padding[1] * 2 > this.kernel_size[1])
            throw new ArgumentException("padding must be at most half the kernel size", nameof(padding));
        this.ceil_mode = ceil_mode;
    }

    /// <summary>(kH, kW).</summary>
    public long[] kernel_size { get; }

    /// <summary>(stride_h, stride_w).</summary>
    public long[] stride { get; }

    /// <summary>(pad_h, pad_w).</summary>
    public long[] padding { get; }

    /// <summary>(dil_h, dil_w).</summary>
    public long[] dilation { get; }

    /// <summary>Whether the output size rounds up (a last, partial window) instead of down.</summary>
    public bool ceil_mode { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        InputChecks.Rank(input, nameof(MaxPool2d), "N×C×H×W (or C×H×W)", 3, 4);
        return F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"kernel_size=({kernel_size[0]}, {kernel_size[1]}), stride=({stride[0]}, {stride[1]}), padding=({padding[0]}, {padding[1]}), " +
        $"dilation=({dilation[0]}, {dilation[1]}), ceil_mode={(ceil_mode ? "True" : "False")}");
}
