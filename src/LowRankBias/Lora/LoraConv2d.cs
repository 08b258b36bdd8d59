using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Lora;

/// <summary>
/// LoRA on a <see cref="Conv2d"/> (the LTE paper's and PEFT's layout): A is a k×k convolution from the input
/// channels to r channels with the base layer's stride, padding and dilation, B a 1×1 convolution from r to the
/// output channels; y = conv(x, W) + b + s·conv(conv(dropout(x), A), B). Merged, ΔW[o, c, i, j] = s Σₖ B[o, k] A[k, c, i, j].
/// Grouped convolutions are not supported.
/// <para>With <see cref="LoraConfig.num_heads"/> N &gt; 1 the factors gain a leading head dimension (A [N, r, C, k, k],
/// B [N, O, r, 1, 1]) and the heads run as one grouped convolution: in <see cref="HeadInput.Shared"/> mode every head
/// sees x and contributes s/N·Bₙ Aₙ x (multi-head LoRA); in <see cref="HeadInput.Split"/> mode group n of the batch
/// goes through head n alone, scaled by s (LTE's workers). Merging folds (s/N) Σₙ Bₙ Aₙ in both modes.</para>
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
    protected override void CheckConfig(LoraConfig config) => RejectHeadRanks(config, nameof(Conv2d));

    /// <inheritdoc />
    protected override (long[] a, long[] b) FactorShapes(LoraConfig config)
    {
        long[] a = [config.r, Conv.in_channels, Conv.kernel_size[0], Conv.kernel_size[1]], b = [Conv.out_channels, config.r, 1, 1];
        return config.num_heads == 1 ? (a, b) : ([config.num_heads, .. a], [config.num_heads, .. b]);
    }

    /// <inheritdoc />
    protected override void InitFactors(LoraConfig config, Tensor a, Tensor b)
    {
        if (config.num_heads == 1) { base.InitFactors(config, a, b); return; }
        for (int n = 0; n < config.num_heads; n++)
        {
            using Tensor headA = a.select(0, n), headB = b.select(0, n);
            base.InitFactors(config, headA, headB);
        }
    }

    /// <inheritdoc />
    protected override Tensor AdapterOutput(string adapter, Tensor input)
    {
        LoraConfig config = Config(adapter);
        if (config.num_heads == 1)
        {
            using Tensor down = F.conv2d(input, lora_A[adapter], null, Conv.stride, Conv.padding, Conv.dilation);
            using Tensor scaled = down * Scaling(adapter);
            return F.conv2d(scaled, lora_B[adapter]);
        }
        return config.head_input == HeadInput.Shared ? SharedOutput(adapter, input, config.num_heads) : SplitOutput(adapter, input, config.num_heads);
    }

    // Every head on the whole batch: one convolution to N·r channels, one 1×1 convolution back with B concatenated.
    private Tensor SharedOutput(string adapter, Tensor x, int heads)
    {
        using var scope = torch.NewDisposeScope();
        Tensor a = lora_A[adapter], b = lora_B[adapter];
        Tensor down = F.conv2d(x, a.flatten(0, 1), null, Conv.stride, Conv.padding, Conv.dilation);
        Tensor bCat = b.permute(1, 0, 2, 3, 4).reshape(Conv.out_channels, heads * a.size(1), 1, 1);
        return F.conv2d(down * (Scaling(adapter) / heads), bCat).MoveToOuterDisposeScope();
    }

    // Group n of the batch through head n: the groups side by side as channels, two convolutions with groups = N.
    private Tensor SplitOutput(string adapter, Tensor x, int heads)
    {
        HeadGroups.Check(x, heads, "split head input");
        using var scope = torch.NewDisposeScope();
        Tensor down = F.conv2d(HeadGroups.ToChannels(x, heads), lora_A[adapter].flatten(0, 1), null, Conv.stride, Conv.padding, Conv.dilation, heads);
        Tensor up = F.conv2d(down * Scaling(adapter), lora_B[adapter].flatten(0, 1), groups: heads);
        return HeadGroups.FromChannels(up, heads).reshape(x.size(0), Conv.out_channels, up.size(2), up.size(3)).MoveToOuterDisposeScope();
    }

    internal override Tensor ApplyWeight(Tensor input, Tensor weight) => F.conv2d(input, weight, null, Conv.stride, Conv.padding, Conv.dilation);

    // A per-channel vector broadcasts over [batch, channels, height, width] as [1, out, 1, 1] (PEFT's DoRA magnitude shape).
    internal override long[] ChannelShape => [1, Conv.out_channels, 1, 1];

    /// <inheritdoc />
    protected override Tensor DeltaWeight(string adapter, ScalarType work)
    {
        using Tensor product = MeanHeadProduct(adapter, work);
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
