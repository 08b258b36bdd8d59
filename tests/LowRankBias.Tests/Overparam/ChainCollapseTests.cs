using LowRankBias.Overparam;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using TestData = LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Tests.Overparam;

using Overparam = LowRankBias.Overparam.Overparam;

/// <summary>Chains of linear layers composed into one: the float64 truth is the chain's own output, layer by layer.
/// Creates layers (global generator), so runs alone.</summary>
[Collection(SerialCollection.Name)]
public sealed class ChainCollapseTests
{
    private const ScalarType F64 = ScalarType.Float64;

    private static void AssertSameOutput(Module chain, Module composed, Tensor input)
    {
        using var scope = NewDisposeScope();
        double[] expected = chain.call(input).ToArray<double>(), actual = composed.call(input).ToArray<double>();
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        Assert.True(scale > 0.1, "a non-trivial output");
        Assert.All(expected.Zip(actual), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-12 * scale, $"{p.First} vs {p.Second}"));
    }

    [Fact]
    public void BiasedLinearChainsComposeExactly()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var chain = new Sequential(new Linear(7, 5, dtype: F64), new Linear(5, 9, bias: false, dtype: F64), new Linear(9, 4, dtype: F64));
        using Linear composed = Overparam.ComposeLinear([chain[0], chain[1], chain[2]]);
        Assert.Equal([4L, 7], composed.weight.shape);
        AssertSameOutput(chain, composed, TestData.Randn(2, 6, 7));

        // b = W₃(W₂ b₁) + b₃ by hand (W₂ has no bias)
        Tensor w2 = ((Linear)chain[1]).weight, w3 = ((Linear)chain[2]).weight;
        Tensor bias = w3.matmul(w2.matmul(((Linear)chain[0]).bias!)) + ((Linear)chain[2]).bias!;
        TestData.AssertClose(bias.ToArray<double>(), composed.bias!, 1e-13);
    }

    [Fact]
    public void ExpandedLayersJoinLinearChains()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var chain = new Sequential(new ExpandedLinear(new Linear(6, 6, dtype: F64), new ExpansionOptions { Depth = 3 }), new Linear(6, 3, dtype: F64));
        using Linear composed = Overparam.ComposeLinear([chain[0], chain[1]]);
        AssertSameOutput(chain, composed, TestData.Randn(3, 5, 6));
    }

    [Theory]
    [InlineData(3, 3, 0)]
    [InlineData(3, 5, 1)]
    [InlineData(1, 3, 2)]
    public void StrideOneConvolutionsComposeIntoOneWiderKernel(int k1, int k2, int padding)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var chain = new Sequential(new Conv2d(3, 5, k1, padding: padding, dtype: F64), new Conv2d(5, 4, k2, dtype: F64), new Conv2d(4, 6, 1, dtype: F64));
        using Conv2d composed = Overparam.ComposeConv2d([chain[0], chain[1], chain[2]]);
        Assert.Equal([6L, 3, k1 + k2 - 1, k1 + k2 - 1], composed.weight.shape);
        AssertSameOutput(chain, composed, TestData.Randn(4, 2, 3, 11, 12));
    }

    [Fact]
    public void HandBuiltChainsInAModelCollapseWhereNoNonlinearityIntervenes()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var features = new Sequential(new Conv2d(2, 4, 3, padding: 1, dtype: F64), new Conv2d(4, 4, 3, dtype: F64), new ReLU(), new Flatten(),
            new Linear(4 * 6 * 6, 16, dtype: F64), new Linear(16, 12, dtype: F64), new ReLU(), new Linear(12, 8, dtype: F64), new Identity(), new Linear(8, 3, dtype: F64));
        var model = new Sequential(features, new Linear(3, 3, dtype: F64));   // an outer Linear after a container: not a run
        Tensor x = TestData.Randn(5, 3, 2, 8, 8);
        double[] before = model.call(x).ToArray<double>();
        string[] keysBefore = model.state_dict().Keys.ToArray();

        Assert.Equal(3, Overparam.CollapseLinearChains(model));

        Assert.IsType<Conv2d>(features[0]);
        Assert.IsType<Identity>(features[1]);
        Assert.Equal([4L, 2, 5, 5], ((Conv2d)features[0]).weight.shape);
        Assert.IsType<Identity>(features[5]);
        Assert.IsType<Identity>(features[9]);
        Assert.Equal([3L, 12], ((Linear)features[7]).weight.shape);
        TestData.AssertClose(before, model.call(x), 1e-12);
        Assert.Contains("0.4.weight", model.state_dict().Keys);
        Assert.DoesNotContain("0.5.weight", model.state_dict().Keys);
        Assert.True(model.state_dict().Keys.All(keysBefore.Contains));
        Assert.Equal(0, Overparam.CollapseLinearChains(model));   // nothing left to collapse
    }

    [Fact]
    public void ChainsThatCannotComposeExactlyAreRefused()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var strided = new Conv2d(3, 3, 3, stride: 2, dtype: F64);
        using var plain = new Conv2d(3, 3, 3, dtype: F64);
        using var padded = new Conv2d(3, 3, 3, padding: 1, dtype: F64);
        Assert.Contains("stride 1", Assert.Throws<ArgumentException>(() => Overparam.ComposeConv2d([strided, plain])).Message);
        Assert.Contains("no padding", Assert.Throws<ArgumentException>(() => Overparam.ComposeConv2d([plain, padded])).Message);
        using var a = new Linear(4, 5, dtype: F64);
        using var b = new Linear(6, 2, dtype: F64);
        Assert.Contains("takes 6 features", Assert.Throws<ArgumentException>(() => Overparam.ComposeLinear([a, b])).Message);
        Assert.Throws<ArgumentException>(() => Overparam.ComposeLinear([a, plain]));

        // a strided convolution splits a run; a padded one may only start one
        var model = new Sequential(new Conv2d(3, 3, 3, dtype: F64), new Conv2d(3, 3, 3, padding: 1, dtype: F64), new Conv2d(3, 3, 3, stride: 2, dtype: F64));
        Assert.Equal(0, Overparam.CollapseLinearChains(model));
    }
}
