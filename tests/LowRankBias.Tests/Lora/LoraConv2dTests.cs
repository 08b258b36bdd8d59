using LowRankBias.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Lora.LoraTestKit;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Tests.Lora;

public sealed class LoraConv2dTests
{
    private const int In = 3, Out = 4, Kernel = 3, Rank = 2;

    private static LoraConv2d Conv64(long stride, long padding, long dilation, int seed)
    {
        var conv = new Conv2d(In, Out, Kernel, stride: stride, padding: padding, dilation: dilation, dtype: F64);
        using (NewDisposeScope())
        {
            Fill(conv.weight, TestData.Randn(seed, Out, In, Kernel, Kernel));
            Fill(conv.bias!, TestData.Randn(seed + 1, Out));
        }
        return new LoraConv2d(conv, new LoraConfig { r = Rank, lora_alpha = 3 });
    }

    // ΔW[o, c, i, j] = s Σₖ B[o, k] A[k, c, i, j], computed with MathNet on the flattened kernels.
    private static Tensor HandDelta(LoraConv2d lora)
    {
        Matrix<double> a = M(lora.lora_A["default"].flatten(1)), b = M(lora.lora_B["default"].flatten(1));
        return tensor((lora.scaling["default"] * b * a).ToRowMajorArray(), [Out, In, Kernel, Kernel]);
    }

    [Fact]
    public void FactorsAreAKByKConvolutionToRChannelsThenAOneByOne()
    {
        using var lora = Conv64(1, 1, 1, 1);
        Assert.Equal([Rank, In, Kernel, Kernel], lora.lora_A["default"].shape);
        Assert.Equal([Out, Rank, 1, 1], lora.lora_B["default"].shape);
        using var scope = NewDisposeScope();
        Tensor x = TestData.Randn(2, 2, In, 6, 6);
        Assert.Equal(ToDoubles(F.conv2d(x, lora.weight, ((Conv2d)lora.base_layer).bias, padding: [1])), ToDoubles(lora.call(x)));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 2, 2)]
    public void ForwardEqualsTheMergedKernelAndMergingAgrees(long stride, long padding, long dilation)
    {
        using var scope = NewDisposeScope();
        using var lora = Conv64(stride, padding, dilation, 10);
        Randomize(lora, "default", 20);
        Tensor x = TestData.Randn(21, 2, In, 9, 8);
        Tensor delta = HandDelta(lora);
        Tensor expected = F.conv2d(x, lora.weight + delta, ((Conv2d)lora.base_layer).bias, [stride], [padding], [dilation]);
        Tensor unmerged = lora.call(x);

        AssertRelative(delta, lora.get_delta_weight("default"), 1e-12, "ΔW");
        AssertRelative(expected, unmerged, 1e-12, "LoRA forward");
        double[] original = ToDoubles(lora.weight);
        lora.merge();
        AssertRelative(unmerged, lora.call(x), 1e-10, "merged forward");
        lora.unmerge();
        TestData.AssertClose(original, lora.weight, 1e-12);
    }

    [Fact]
    public void FactorGradientsFollowTheChainRuleThroughTheMergedKernel()
    {
        using var scope = NewDisposeScope();
        using var lora = Conv64(1, 1, 1, 30);
        Randomize(lora, "default", 40);
        Tensor x = TestData.Randn(41, 2, In, 5, 5);
        Tensor g = TestData.Randn(42, 2, Out, 5, 5);
        (lora.call(x) * g).sum().backward();

        // G = ∂L/∂W of a plain convolution with W + ΔW; then ∂L/∂B = s G Aᵀ and ∂L/∂A = s Bᵀ G on flattened kernels.
        Tensor merged = (lora.weight + HandDelta(lora)).detach().requires_grad_();
        (F.conv2d(x, merged, ((Conv2d)lora.base_layer).bias, padding: [1]) * g).sum().backward();
        double s = lora.scaling["default"];
        Matrix<double> gw = M(merged.grad!.flatten(1)), a = M(lora.lora_A["default"].flatten(1)), b = M(lora.lora_B["default"].flatten(1));
        TestData.AssertClose((s * gw * a.Transpose()).ToRowMajorArray(), lora.lora_B["default"].grad!, 1e-10);
        TestData.AssertClose((s * b.Transpose() * gw).ToRowMajorArray(), lora.lora_A["default"].grad!, 1e-10);
    }

    [Fact]
    public void GroupedConvolutionsAreRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new LoraConv2d(new Conv2d(4, 4, 3, groups: 2, dtype: F64)));
        Assert.Contains("groups = 2", error.Message);
    }
}
