using System.Globalization;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Onnx;

/// <summary>
/// Pixel preprocessing of CNTK-era image models, read from their preprocessing graph by
/// <see cref="OnnxResNet.load_preprocess"/>: the channel order reversed (RGB → BGR) when <see cref="reverse_channels"/>,
/// then <see cref="mean_image"/> subtracted. The mean is per pixel, so images must have its size; use
/// <see cref="per_channel"/> for other sizes.
/// </summary>
public sealed class ImagePreprocess : Module
{
    /// <summary>Subtracts <paramref name="mean_image"/> ([1, C, H, W]; the module takes it) after reversing the channels
    /// if <paramref name="reverse_channels"/>.</summary>
    public ImagePreprocess(Tensor mean_image, bool reverse_channels)
    {
        ArgumentNullException.ThrowIfNull(mean_image);
        if (mean_image.dim() != 4 || mean_image.size(0) != 1)
            throw new ArgumentException($"mean_image must be [1, C, H, W], got [{string.Join(", ", mean_image.shape)}]", nameof(mean_image));
        this.mean_image = register_buffer(nameof(mean_image), mean_image);
        this.reverse_channels = reverse_channels;
    }

    /// <summary>The mean subtracted, [1, C, H, W] (H = W = 1 after <see cref="per_channel"/>).</summary>
    public Tensor mean_image { get; }

    /// <summary>Whether the channel order is reversed first (RGB pixels to a BGR model).</summary>
    public bool reverse_channels { get; }

    /// <summary>The same preprocessing with the mean image averaged per channel, for any image size.</summary>
    public ImagePreprocess per_channel()
    {
        using DisposeScope scope = torch.NewDisposeScope();
        return new ImagePreprocess(mean_image.mean([2, 3], keepdim: true), reverse_channels);
    }

    /// <summary>Images [N, C, H, W] (pixels as the model's file expects them, e.g. in [0, 255]) made model inputs.</summary>
    public override Tensor forward(Tensor input)
    {
        long[] m = mean_image.shape;
        bool sizeFits = (m[2] == 1 || input.dim() == 4 && input.size(2) == m[2]) && (m[3] == 1 || input.dim() == 4 && input.size(3) == m[3]);
        if (input.dim() != 4 || input.size(1) != m[1] || !sizeFits)
            throw new ArgumentException($"expected images [N, {m[1]}, {(m[2] == 1 ? "H" : m[2])}, {(m[3] == 1 ? "W" : m[3])}], got " +
                $"[{string.Join(", ", input.shape)}]" + (m[2] == 1 ? "" : "; per_channel() takes any size"), nameof(input));
        using DisposeScope scope = torch.NewDisposeScope();
        return (reverse_channels ? input.flip(1) : input).sub(mean_image).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"mean_image=[{string.Join(", ", mean_image.shape)}], reverse_channels={reverse_channels}");
}
