using System.Globalization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

/// <summary>Mean pooling of N×C×H×W (or C×H×W) inputs to a fixed output size (PyTorch's <c>nn.AdaptiveAvgPool2d</c>);
/// output size 1 is global average pooling.</summary>
public sealed class AdaptiveAvgPool2d : Module
{
    /// <summary>A square output of <paramref name="output_size"/>².</summary>
    public AdaptiveAvgPool2d(long output_size) : this([output_size])
    {
    }

    /// <summary>An output of one size (square) or a (height, width) pair.</summary>
    public AdaptiveAvgPool2d(long[] output_size) => this.output_size = InputChecks.Pair(output_size, nameof(output_size), 1);

    /// <summary>(H_out, W_out).</summary>
    public long[] output_size { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        InputChecks.Rank(input, nameof(AdaptiveAvgPool2d), "N×C×H×W (or C×H×W)", 3, 4);
        return F.adaptive_avg_pool2d(input, output_size);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture, $"output_size=({output_size[0]}, {output_size[1]})");
}
