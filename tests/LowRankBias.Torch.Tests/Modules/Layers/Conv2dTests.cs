using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests.Init;
using static LowRankBias.Torch.Tests.TestData;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests.Modules.Layers;

public class Conv2dTests
{
    [Theory]
    [InlineData(1, 0, 1, 1, true)]
    [InlineData(2, 1, 1, 1, false)]
    [InlineData(1, 2, 2, 1, true)]
    [InlineData(2, 1, 1, 2, true)]
    public void ForwardIsTheFunctionalConvolutionOfItsOwnParameters(long stride, long padding, long dilation, long groups, bool bias)
    {
        using var scope = NewDisposeScope();
        using var conv = new Conv2d(4, 6, 3, stride, padding, dilation, groups, bias, dtype: ScalarType.Float64);
        Assert.Equal(new long[] { 6, 4 / groups, 3, 3 }, conv.weight.shape);
        Assert.Equal(bias, conv.bias is not null);
        Tensor x = Randn(1, 2, 4, 9, 8);
        Tensor expected = F.conv2d(x, conv.weight, conv.bias, [stride], [padding], [dilation], groups);
        Tensor actual = conv.call(x);
        Assert.Equal(expected.shape, actual.shape);
        AssertClose(expected.ToArray<double>(), actual, 0);
    }

    [Fact]
    public void RectangularKernelsAndPairsAreKeptPerDimension()
    {
        using var scope = NewDisposeScope();
        using var conv = new Conv2d(1, 2, kernel_size: [2, 3], stride: [1, 2], padding: [0, 1], dtype: ScalarType.Float64);
        Assert.Equal(new long[] { 2, 1, 2, 3 }, conv.weight.shape);
        // H: (5 − 2)/1 + 1 = 4; W: (6 + 2 − 3)/2 + 1 = 3.
        Assert.Equal(new long[] { 1, 2, 4, 3 }, conv.call(Randn(2, 1, 1, 5, 6)).shape);
        Assert.Equal("Conv2d(1, 2, kernel_size=(2, 3), stride=(1, 2), padding=(0, 1))", conv.ToString());
    }

    [Fact]
    public void UnbatchedInputIsAccepted()
    {
        using var scope = NewDisposeScope();
        using var conv = new Conv2d(3, 5, 3, padding: 1, dtype: ScalarType.Float64);
        Tensor x = Randn(3, 3, 4, 4);
        Tensor batched = conv.call(x.unsqueeze(0));
        AssertClose(batched.ToArray<double>(), conv.call(x), 1e-14);
    }

    [Fact]
    public void DefaultInitialisationIsUniformWithinTheFanInBound()
    {
        using var scope = NewDisposeScope();
        using var conv = new Conv2d(8, 16, 3, groups: 2);
        double bound = 1 / Math.Sqrt(8 / 2 * 3 * 3);
        SampleStats.Of(conv.weight.detach()).AssertMatches(0, bound * bound / 3);
        Assert.InRange(conv.weight.abs().max().item<float>(), 0.9 * bound, bound);
        Assert.InRange(conv.bias!.abs().max().item<float>(), 0, bound);
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        using var conv = new Conv2d(2, 4, 2, stride: 2, padding: 1, groups: 2, dtype: ScalarType.Float64);
        GradCheck.Verify((x, w, b) => F.conv2d(x, w, b, conv.stride, conv.padding, conv.dilation, conv.groups),
            Randn(4, 1, 2, 3, 3), conv.weight, conv.bias!);
        // The module's own graph reaches its parameters.
        conv.call(Randn(5, 1, 2, 3, 3)).sum().backward();
        Assert.NotNull(conv.weight.grad);
        Assert.NotNull(conv.bias!.grad);
    }

    [Fact]
    public void WrongChannelCountOrGroupingIsAClearError()
    {
        using var scope = NewDisposeScope();
        using var conv = new Conv2d(3, 8, 3);
        var error = Assert.Throws<ArgumentException>(() => conv.call(zeros([1, 1, 8, 8])));
        Assert.Contains("expects 3 input channels, got 1", error.Message);
        Assert.Throws<ArgumentException>(() => conv.call(zeros([8, 8])));
        Assert.Throws<ArgumentException>(() => new Conv2d(3, 8, 3, groups: 2));
        Assert.Throws<ArgumentException>(() => new Conv2d(3, 8, kernel_size: [3, 3, 3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(3, 8, 3, stride: 0));
    }
}
