using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Models;

/// <summary>
/// A residual block of a <see cref="ResNet"/>: relu(branch(x) + shortcut(x)), the shortcut being the input itself or,
/// where the block changes the resolution or the width, <see cref="downsample"/> (1×1 convolution with the block's
/// stride, then BatchNorm) — torchvision's <c>BasicBlock</c> and <c>Bottleneck</c>. The ReLU after the addition is
/// applied directly, not through the block's <c>relu</c> module, so hooks on that module see the branch's ReLUs only.
/// As in torchvision the addition and the ReLUs work in place (one allocation less each, which is most of batch-1
/// inference time on oneDNN tensors), so a hook that keeps a BatchNorm's output sees it rectified.
/// </summary>
public abstract class ResNetBlock : Module
{
    // The two block types of torchvision's ResNet are the only ones (LastNorm is what zero_init_residual zeroes).
    private protected ResNetBlock()
    {
    }

    /// <summary>Output channels per unit of the stage's width: 1 for <see cref="BasicBlock"/>, 4 for <see cref="Bottleneck"/>.</summary>
    public abstract long expansion { get; }

    /// <summary>The shortcut's projection, a <see cref="Sequential"/> of Conv2d and BatchNorm2d named "0" and "1", or null
    /// for the identity shortcut.</summary>
    public abstract Module? downsample { get; }

    /// <summary>The BatchNorm that ends the residual branch (zeroed by <see cref="ResNet.Config.zero_init_residual"/>).</summary>
    internal abstract BatchNorm2d? LastNorm { get; }

    /// <summary>The residual branch, before the addition.</summary>
    protected abstract Tensor Branch(Tensor input);

    /// <summary>Convolutions of the residual branch, conv1 … convN, each followed by bn1 … bnN.</summary>
    private protected abstract int BranchConvolutions { get; }

    /// <summary>Each convolution of the block and the BatchNorm that follows it, as child paths (<see cref="ResNet.fuse_model"/>).</summary>
    internal IEnumerable<(string conv, string bn)> ConvBnPairs()
    {
        for (int i = 1; i <= BranchConvolutions; i++) yield return ($"conv{i}", $"bn{i}");
        if (downsample is not null) yield return ("downsample.0", "downsample.1");
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor shortcut = downsample is null ? input : downsample.call(input);
        return F.relu_(Branch(input).add_(shortcut)).MoveToOuterDisposeScope();
    }

    /// <summary>The shortcut projection of torchvision's <c>_make_layer</c>.</summary>
    internal static Sequential Downsample(long inplanes, long outplanes, long stride, Device? device, ScalarType? dtype) =>
        new(new Conv2d(inplanes, outplanes, 1, stride: stride, bias: false, device: device, dtype: dtype),
            new BatchNorm2d(outplanes, device: device, dtype: dtype));

    internal static Conv2d Conv3x3(long inplanes, long outplanes, long stride, Device? device, ScalarType? dtype) =>
        new(inplanes, outplanes, 3, stride: stride, padding: 1, bias: false, device: device, dtype: dtype);

    internal static Conv2d Conv1x1(long inplanes, long outplanes, Device? device, ScalarType? dtype) =>
        new(inplanes, outplanes, 1, bias: false, device: device, dtype: dtype);
}

/// <summary>Two 3×3 convolutions (the first with the block's stride), each followed by BatchNorm, ReLU between
/// (torchvision's <c>BasicBlock</c>; ResNet-18/34).</summary>
public sealed class BasicBlock : ResNetBlock
{
    /// <summary>A block from <paramref name="inplanes"/> to <paramref name="planes"/> channels.</summary>
    public BasicBlock(long inplanes, long planes, long stride = 1, Module? downsample = null, Device? device = null, ScalarType? dtype = null)
    {
        conv1 = Conv3x3(inplanes, planes, stride, device, dtype);
        bn1 = new BatchNorm2d(planes, device: device, dtype: dtype);
        relu = new ReLU(inplace: true);
        conv2 = Conv3x3(planes, planes, 1, device, dtype);
        bn2 = new BatchNorm2d(planes, device: device, dtype: dtype);
        this.downsample = downsample;
    }

    /// <inheritdoc />
    public override long expansion => 1;

    /// <summary>3×3 convolution with the block's stride.</summary>
    public Module conv1 { get; }

    /// <summary>BatchNorm after <see cref="conv1"/>.</summary>
    public Module bn1 { get; }

    /// <summary>The ReLU between the convolutions.</summary>
    public Module relu { get; }

    /// <summary>3×3 convolution, stride 1.</summary>
    public Module conv2 { get; }

    /// <summary>BatchNorm after <see cref="conv2"/>.</summary>
    public Module bn2 { get; }

    /// <inheritdoc />
    public override Module? downsample { get; }

    internal override BatchNorm2d? LastNorm => bn2 as BatchNorm2d;

    private protected override int BranchConvolutions => 2;

    /// <inheritdoc />
    protected override Tensor Branch(Tensor input) => bn2.call(conv2.call(relu.call(bn1.call(conv1.call(input)))));
}

/// <summary>1×1 convolution to the stage's width, 3×3 convolution with the block's stride, 1×1 convolution to 4× the
/// width, each followed by BatchNorm, ReLU between (torchvision's <c>Bottleneck</c>, ResNet v1.5: the stride sits on the
/// 3×3 convolution, not on the first 1×1 as in He et al. 2016; ResNet-50/101/152).</summary>
public sealed class Bottleneck : ResNetBlock
{
    /// <summary>A block from <paramref name="inplanes"/> channels through <paramref name="planes"/> to 4·planes.</summary>
    public Bottleneck(long inplanes, long planes, long stride = 1, Module? downsample = null, Device? device = null, ScalarType? dtype = null)
    {
        conv1 = Conv1x1(inplanes, planes, device, dtype);
        bn1 = new BatchNorm2d(planes, device: device, dtype: dtype);
        conv2 = Conv3x3(planes, planes, stride, device, dtype);
        bn2 = new BatchNorm2d(planes, device: device, dtype: dtype);
        conv3 = Conv1x1(planes, planes * 4, device, dtype);
        bn3 = new BatchNorm2d(planes * 4, device: device, dtype: dtype);
        relu = new ReLU(inplace: true);
        this.downsample = downsample;
    }

    /// <inheritdoc />
    public override long expansion => 4;

    /// <summary>1×1 convolution to the stage's width.</summary>
    public Module conv1 { get; }

    /// <summary>BatchNorm after <see cref="conv1"/>.</summary>
    public Module bn1 { get; }

    /// <summary>3×3 convolution with the block's stride.</summary>
    public Module conv2 { get; }

    /// <summary>BatchNorm after <see cref="conv2"/>.</summary>
    public Module bn2 { get; }

    /// <summary>1×1 convolution to 4× the stage's width.</summary>
    public Module conv3 { get; }

    /// <summary>BatchNorm after <see cref="conv3"/>.</summary>
    public Module bn3 { get; }

    /// <summary>The ReLU after bn1 and bn2.</summary>
    public Module relu { get; }

    /// <inheritdoc />
    public override Module? downsample { get; }

    internal override BatchNorm2d? LastNorm => bn3 as BatchNorm2d;

    private protected override int BranchConvolutions => 3;

    /// <inheritdoc />
    protected override Tensor Branch(Tensor input)
    {
        Tensor h = relu.call(bn1.call(conv1.call(input)));
        h = relu.call(bn2.call(conv2.call(h)));
        return bn3.call(conv3.call(h));
    }
}
