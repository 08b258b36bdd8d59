using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Lora;

/// <summary>
/// LoRA on a <see cref="Conv2d"/> (the LTE paper's and PEFT's layout): A is a k×k convolution from the input
/// channels to r channels with the base layer's stride, padding and dilation, B a 1×1 convolution from r to the
/// output channels; y = conv(x, W) + b + s·conv(conv(dropout(x), A), B). Merged, ΔW[o, c, i, j] = s Σₖ B[o, k] A[k, c, i, j].
/// Grouped convolutions are not supported.
/// </summary>
public sealed class LoraConv2d : LoraLayer
{
    /// <summary>Wraps <paramref name="base_layer"/> (groups = 1) and adds one adapter.</summary>
    public LoraConv2d(Conv2d base_layer, LoraConfig? config = null, string adapter_name = "default") : base(CheckGroups(base_layer)) =>
        update_layer(adapter_name, config ?? new LoraConfig());

    /// <inheritdoc />
    public override Tensor weight => Conv.weight;

    /// <inheritdoc />
    protected override (long rows, long cols) MatrixShape => (Conv.out_channels, Conv.in_channels * Conv.kernel_size[0] * Conv.kernel_size[1]);

    private Conv2d Conv => (Conv2d)base_layer;

    /// <inheritdoc />
    protected override (long[] a, long[] b) FactorShapes(LoraConfig config) =>
        ([config.r, Conv.in_channels, Conv.kernel_size[0], Conv.kernel_size[1]], [Conv.out_channels, config.r, 1, 1]);

    /// <inheritdoc />
    protected override Tensor AdapterOutput(string adapter, Tensor input)
    {
        using Tensor x = LoraInput(adapter, input);
        using Tensor down = F.conv2d(x, lora_A[adapter], null, Conv.stride, Conv.padding, Conv.dilation);
        using Tensor scaled = down * Scaling(adapter);
        return F.conv2d(scaled, lora_B[adapter]);
    }

    /// <inheritdoc />
    protected override Tensor DeltaWeight(string adapter, ScalarType work)
    {
        using Tensor a = lora_A[adapter].to(work), b = lora_B[adapter].to(work);
        using Tensor aFlat = a.flatten(1), bFlat = b.flatten(1);
        using Tensor product = bFlat.mm(aFlat);
        using Tensor kernel = product.reshape(weight.shape);
        return kernel * Scaling(adapter);
    }

    private static Conv2d CheckGroups(Conv2d conv)
    {
        ArgumentNullException.ThrowIfNull(conv);
        if (conv.groups != 1)
            throw new ArgumentException($"LoRA supports ungrouped convolutions only; this Conv2d has groups = {conv.groups}", nameof(conv));
        return conv;
    }
}
