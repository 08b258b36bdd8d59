using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests.Modules.Layers;

/// <summary>MkldnnConv2d (oneDNN's convolution) against the float64 convolution of the same float32 weights, in the
/// cases libtorch's conv2d would not send to oneDNN (batch 1, small input) and those it would, on dense and on oneDNN
/// (to_mkldnn) inputs; to_mkldnn on a model, run in oneDNN's layout from input to logits.</summary>
public sealed class MkldnnConv2dTests
{
    [Theory]
    [InlineData(1, 3, 1, 1, 1, 1)]   // batch 1, 3×3, small input: conv2d's im2col path
    [InlineData(1, 1, 2, 0, 1, 1)]   // 1×1 projection with stride
    [InlineData(3, 3, 2, 2, 2, 1)]   // dilated
    [InlineData(2, 3, 1, 1, 1, 2)]   // grouped
    public void MatchesTheFloat64Convolution(long batch, long kernel, long stride, long padding, long dilation, long groups)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var conv = new Conv2d(4, 6, kernel, stride: stride, padding: padding, dilation: dilation, groups: groups);
        conv.eval();
        using var fast = new MkldnnConv2d(conv);
        Assert.Empty(fast.parameters());
        Tensor x = randn([batch, 4, 9, 7]);
        Tensor expected = F.conv2d(x.@double(), conv.weight.@double(), conv.bias!.@double(), conv.stride, conv.padding, conv.dilation, groups);
        Tensor actual = fast.call(x);
        Assert.Equal(ScalarType.Float32, actual.dtype);
        TestData.AssertClose(expected.flatten().ToArray<double>(), actual.flatten(), 1e-5);

        Tensor blocked = fast.call(x.to_mkldnn());   // oneDNN in, oneDNN out
        Assert.True(blocked.is_mkldnn);
        Assert.False(actual.is_mkldnn);
        Assert.Equal(expected.shape, blocked.shape);
        TestData.AssertClose(expected.flatten().ToArray<double>(), blocked.to_dense().flatten(), 1e-5);
    }

    [Fact]
    public void OneDnnTensorsRoundTripAndReadBack()
    {
        using var scope = NewDisposeScope();
        Tensor x = arange(0, 24, dtype: ScalarType.Float32).reshape(2, 3, 4);
        Tensor blocked = x.to_mkldnn();
        Assert.True(blocked.is_mkldnn);
        Assert.False(blocked.is_contiguous());   // no strides, and no crash asking
        Assert.Equal(x.shape, blocked.shape);
        Assert.Equal(x.ToArray<float>(), blocked.ToArray<float>());   // read back through to_dense
        Assert.Equal(x.ToArray<float>(), blocked.to_dense().ToArray<float>());
        Assert.False(x.is_mkldnn);
    }

    [Fact]
    public void ToMkldnnKeepsAFusedResNetsLogitsAndRefusesTrainingMode()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var model = new ResNet(new ResNet.Config { width = 4, layers = [1, 1, 1, 1], num_classes = 5 });
        var training = Assert.Throws<InvalidOperationException>(() => MkldnnConv2d.to_mkldnn(model));
        Assert.Contains("the model is in training mode", training.Message);
        Assert.NotEmpty(model.modules().OfType<Conv2d>());   // refused before anything changed

        model.eval();
        Tensor x = randn([1, 3, 32, 32]);
        Tensor expected;
        using (no_grad()) expected = model.call(x);
        int convolutions = model.modules().OfType<Conv2d>().Count();
        MkldnnConv2d.to_mkldnn(model.fuse_model());
        Assert.Empty(model.modules().OfType<Conv2d>());
        Assert.Equal(convolutions, model.modules().OfType<MkldnnConv2d>().Count());
        using (no_grad()) Assert.True(allclose(model.call(x), expected, rtol: 1e-4, atol: 1e-5));

        // The deployment path: every layer (pooling, addition, ReLU, flatten, the classifier) keeps oneDNN's layout.
        Tensor blocked;
        using (no_grad()) blocked = model.call(x.to_mkldnn());
        Assert.True(blocked.is_mkldnn);
        Assert.True(allclose(blocked.to_dense(), expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void RefusesOtherDtypesAndBadInput()
    {
        using var scope = NewDisposeScope();
        using var wide = new Conv2d(2, 3, 3, dtype: ScalarType.Float64);
        wide.eval();
        Assert.Contains("must be float32 on the CPU", Assert.Throws<ArgumentException>(() => new MkldnnConv2d(wide)).Message);
        using var conv = new Conv2d(2, 3, 3);
        Assert.Contains("training mode", Assert.Throws<InvalidOperationException>(() => new MkldnnConv2d(conv)).Message);
        conv.eval();
        using var fast = new MkldnnConv2d(conv);
        Assert.Contains("expects 2 input channels, got 4", Assert.Throws<ArgumentException>(() => fast.call(zeros([1, 4, 5, 5]))).Message);
        Assert.Contains("float32 CPU input", Assert.Throws<ArgumentException>(() => fast.call(zeros([1, 2, 5, 5], ScalarType.Float64))).Message);
    }
}
