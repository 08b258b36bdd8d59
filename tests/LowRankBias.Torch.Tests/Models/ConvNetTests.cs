using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.Tests.TestData;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests.Models;

// Serial and seeded: with a tiny network, an unlucky draw from the shared generator can leave every fc1 unit dead,
// and then no upstream replacement changes the output.
[Collection(SerialCollection.Name)]
public class ConvNetTests
{
    private static readonly ConvNet.Config Tiny = new() { in_channels = 1, num_classes = 3, channels = [2, 3, 4, 5], hidden_features = 6 };

    [Fact]
    public void TheThesisArchitectureHasFour3x3ConvolutionsAndTwoFullyConnectedLayers()
    {
        using var scope = NewDisposeScope();
        using var cnn = new ConvNet(ConvNet.Config.Cifar10);
        long[][] shapes = ReplaceableLayers.PathsOf<Conv2d>(cnn).Select(p => cnn.get_parameter(p + ".weight").shape).ToArray();
        Assert.Equal(new[] { new long[] { 64, 3, 3, 3 }, [128, 64, 3, 3], [256, 128, 3, 3], [512, 256, 3, 3] }, shapes);
        Assert.Equal(new long[] { 256, 512 }, cnn.get_parameter("fc1.weight").shape);
        Assert.Equal(new long[] { 10, 256 }, cnn.get_parameter("fc2.weight").shape);
    }

    [Theory]
    [InlineData(1, 28)]
    [InlineData(3, 32)]
    public void ForwardMapsImagesOfEitherDatasetToLogits(long channels, long size)
    {
        using var scope = NewDisposeScope();
        using var cnn = new ConvNet(Tiny with { in_channels = channels });
        Assert.Equal(new long[] { 2, 3 }, cnn.call(randn([2, channels, size, size])).shape);
    }

    [Fact]
    public void ForwardIsConvPoolReluThenGlobalMaxThenTwoLayers()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        using var cnn = new ConvNet(Tiny, dtype: ScalarType.Float64);
        Tensor x = Randn(1, 2, 1, 28, 28);
        Tensor h = x;
        for (int i = 0; i < 3; i++) h = F.relu(F.max_pool2d(cnn.convs[i].call(h), [2], [2]));
        h = F.relu(cnn.convs[3].call(h));
        Assert.Equal(new long[] { 2, 5, 3, 3 }, h.shape);
        Tensor pooled = h.amax([2, 3]);
        Tensor expected = cnn.fc2.call(F.relu(cnn.fc1.call(pooled)));
        AssertClose(expected.ToArray<double>(), cnn.call(x), 1e-14);
        ReplaceableLayers.AssertEachReplacementChangesTheOutput(cnn, ["convs.0", "convs.3", "fc1", "fc2"], x);
    }

    [Fact]
    public void BadInputsAreClearErrors()
    {
        using var scope = NewDisposeScope();
        using var cnn = new ConvNet(Tiny);
        Assert.Contains("expects 1 input channels, got 3", Assert.Throws<ArgumentException>(() => cnn.call(zeros([1, 3, 28, 28]))).Message);
        Assert.Contains("too small", Assert.Throws<ArgumentException>(() => cnn.call(zeros([1, 1, 4, 4]))).Message);
    }
}
