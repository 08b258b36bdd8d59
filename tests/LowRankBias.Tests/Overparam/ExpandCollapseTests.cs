using LowRankBias.Overparam;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using MathNet.Numerics.LinearAlgebra;
using TestData = LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Tests.Overparam;

using Overparam = LowRankBias.Overparam.Overparam;

/// <summary>Creates layers, which draw from libtorch's global generator: runs alone so tests that watch the generator are not disturbed.</summary>
[Collection(SerialCollection.Name)]
public sealed class ExpandCollapseTests
{
    /// <summary>‖a − b‖ / ‖a‖ over all entries.</summary>
    private static double RelativeError(Tensor expected, Tensor actual)
    {
        double[] e = expected.to(ScalarType.Float64).ToArray<double>(), a = actual.to(ScalarType.Float64).ToArray<double>();
        Assert.Equal(e.Length, a.Length);
        double diff = Math.Sqrt(e.Zip(a, (x, y) => (x - y) * (x - y)).Sum()), norm = Math.Sqrt(e.Sum(x => x * x));
        Assert.True(norm > 0);
        return diff / norm;
    }

    /// <summary>Expands, runs, collapses, runs again: the plain model must compute what the expanded one did.
    /// <paramref name="inspect"/> sees the expanded model before Collapse disposes its expanded layers.</summary>
    private static Module RoundTrip(Module model, Tensor input, ExpansionOptions options, double tolerance, Action<Module>? inspect = null)
    {
        Module expanded = Overparam.Expand(model, options);
        inspect?.Invoke(expanded);
        using Tensor before = expanded.call(input);
        Module collapsed = Overparam.Collapse(expanded);
        using Tensor after = collapsed.call(input);
        double error = RelativeError(before, after);
        Assert.True(error <= tolerance, $"relative error {error:E2} above {tolerance:E0}");
        return collapsed;
    }

    [Theory]
    [InlineData(1, ScalarType.Float64, 1e-10)]
    [InlineData(2, ScalarType.Float64, 1e-10)]
    [InlineData(8, ScalarType.Float64, 1e-10)]
    [InlineData(4, ScalarType.Float32, 1e-5)]
    public void Linear_round_trip_computes_the_same_function(int depth, ScalarType dtype, double tolerance)
    {
        using var scope = NewDisposeScope();
        using Tensor x = TestData.Randn(1, 16, 12).to(dtype);
        using Module collapsed = RoundTrip(new Linear(12, 7, dtype: dtype), x, new ExpansionOptions { Depth = depth }, tolerance,
            expanded => Assert.Equal(depth, Assert.IsType<ExpandedLinear>(expanded).Depth));
        var plain = Assert.IsType<Linear>(collapsed);
        Assert.Equal((12L, 7L, dtype), (plain.in_features, plain.out_features, plain.weight.dtype));
        Assert.NotNull(plain.bias);
    }

    [Fact]
    public void Expanded_linear_matches_a_float64_product_of_its_factors()
    {
        using var scope = NewDisposeScope();
        using var source = new Linear(5, 3, dtype: ScalarType.Float64);
        double[] originalBias = source.bias!.ToArray<double>();
        using var layer = new ExpandedLinear(source, new ExpansionOptions { Depth = 3, WidthFactor = 2 });
        Assert.Equal([[10L, 5], [10, 10], [3, 10]], layer.factors.Select(f => f.shape));
        Assert.Equal(originalBias, layer.bias!.ToArray<double>());

        Matrix<double> product = layer.factors.Select(TestData.ToMatrix).Aggregate((acc, w) => w * acc);
        Tensor x = TestData.Randn(2, 4, 5);
        Matrix<double> expected = TestData.ToMatrix(x) * product.Transpose();
        for (int i = 0; i < expected.RowCount; i++) expected.SetRow(i, expected.Row(i) + Vector<double>.Build.Dense(originalBias));

        TestData.AssertClose(expected.ToRowMajorArray(), layer.call(x), 1e-12);
        TestData.AssertClose(product.ToRowMajorArray(), layer.EffectiveWeight(), 1e-12);
    }

    [Theory]
    [InlineData(1, 1, 0, 1, ScalarType.Float64, 1e-10)]
    [InlineData(2, 2, 1, 1, ScalarType.Float64, 1e-10)]
    [InlineData(4, 1, 2, 2, ScalarType.Float64, 1e-10)]
    [InlineData(3, 2, 1, 1, ScalarType.Float32, 1e-5)]
    public void Conv2d_round_trip_computes_the_same_function(int depth, long stride, long padding, long dilation, ScalarType dtype, double tolerance)
    {
        using var scope = NewDisposeScope();
        using Tensor x = TestData.Randn(3, 2, 4, 9, 9).to(dtype);
        var conv = new Conv2d(4, 6, 3, stride, padding, dilation, dtype: dtype);
        using Module collapsed = RoundTrip(conv, x, new ExpansionOptions { Depth = depth }, tolerance,
            expanded => Assert.Equal(depth == 1 ? new long[] { 6, 4, 3, 3 } : [6, 4, 3, 3], Assert.IsType<ExpandedConv2d>(expanded).factors[0].shape));
        var plain = Assert.IsType<Conv2d>(collapsed);
        Assert.Equal([stride, stride], plain.stride);
        Assert.Equal([padding, padding], plain.padding);
        Assert.Equal([dilation, dilation], plain.dilation);
        Assert.Equal([6L, 4, 3, 3], plain.weight.shape);
    }

    [Fact]
    public void Conv2d_factors_follow_the_thesis_rule_when_h_equals_n_does_not_cap_the_rank()
    {
        using var scope = NewDisposeScope();
        using var conv = new Conv2d(8, 6, 3, dtype: ScalarType.Float64);
        using var layer = new ExpandedConv2d(conv, new ExpansionOptions { Depth = 3 });
        Assert.Equal([[8L, 8, 3, 3], [8, 8, 1, 1], [6, 8, 1, 1]], layer.factors.Select(f => f.shape));
        Assert.Equal([6L, 8, 3, 3], layer.EffectiveWeight().shape);
    }

    [Theory]
    [InlineData(1, 16, 9)]   // grey-scale first convolution: the flattened weight 16×9 reaches rank 9, not n = 1
    [InlineData(4, 6, 6)]    // 6×36 reaches rank 6
    public void Conv2d_default_width_is_the_rank_the_flattened_weight_can_reach(long inChannels, long outChannels, long expectedWidth)
    {
        using var scope = NewDisposeScope();
        using var conv = new Conv2d(inChannels, outChannels, 3, dtype: ScalarType.Float64);
        using var layer = new ExpandedConv2d(conv, new ExpansionOptions { Depth = 2 });
        Assert.Equal(expectedWidth, layer.factors[0].size(0));
        // The expanded layer can express a weight of full flattened rank: the effective weight of random factors has it.
        using Tensor flattened = layer.EffectiveWeight().reshape(outChannels, -1);
        Assert.Equal(expectedWidth, linalg.matrix_rank(flattened).item<long>());
        // h = n would cap that rank, so it is refused unless explicitly allowed.
        if (inChannels < expectedWidth)
        {
            var e = Assert.Throws<ArgumentException>(() => new ExpandedConv2d(conv, new ExpansionOptions { Width = inChannels }));
            Assert.Contains("caps the rank", e.Message);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-10)]
    [InlineData(ScalarType.Float32, 1e-5)]
    public void Whole_cnn_round_trip_keeps_the_architecture_and_the_function(ScalarType dtype, double tolerance)
    {
        using var scope = NewDisposeScope();
        using Tensor x = TestData.Randn(4, 5, 3, 8, 8).to(dtype);
        var model = new SmallCnn(dtype);
        Module collapsed = RoundTrip(model, x, new ExpansionOptions { Depth = 4, WidthFactor = 2 }, tolerance,
            expanded => Assert.All(expanded.children(), c => Assert.IsAssignableFrom<ExpandedLayer>(c)));
        Assert.Same(model, collapsed);
        Assert.Equal(["Conv2d", "Conv2d", "Conv2d", "Linear", "Linear"], model.children().Select(c => c.GetType().Name));
        var conv2 = (Conv2d)model.conv2;
        Assert.Equal([2L, 2], conv2.stride);
        Assert.Equal([1L, 1], conv2.padding);
        Assert.Equal([1L, 1], ((Conv2d)model.conv1).padding);
        Assert.Equal([2L, 2], ((Conv2d)model.conv3).dilation);
        model.Dispose();
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-10)]
    [InlineData(ScalarType.Float32, 1e-5)]
    public void Thesis_convnet_round_trip_computes_the_same_function(ScalarType dtype, double tolerance)
    {
        using var scope = NewDisposeScope();
        using Tensor x = TestData.Randn(6, 4, 3, 16, 16).to(dtype);
        using var model = new ConvNet(new ConvNet.Config { channels = [8, 16, 16, 24], hidden_features = 16 }, dtype: dtype);
        RoundTrip(model, x, new ExpansionOptions { Depth = 4 }, tolerance,
            expanded => Assert.Equal(6, expanded.modules().Count(m => m is ExpandedLayer)));
        Assert.Equal(6, model.modules().Count(m => m is Linear or Conv2d));
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-10)]
    [InlineData(ScalarType.Float32, 1e-5)]
    public void Vision_transformer_round_trip_computes_the_same_function(ScalarType dtype, double tolerance)
    {
        using var scope = NewDisposeScope();
        using Tensor x = TestData.Randn(7, 3, 1, 8, 8).to(dtype);
        var config = new VisionTransformer.Config
        {
            image_size = 8, patch_size = 4, in_channels = 1, num_classes = 5, num_layers = 2, num_heads = 2, hidden_dim = 16, mlp_dim = 32,
        };
        using var model = new VisionTransformer(config, dtype: dtype);
        model.eval();
        int plainLayers = model.modules().Count(m => m is Linear or Conv2d);
        RoundTrip(model, x, new ExpansionOptions { Depth = 2, WidthFactor = 2 }, tolerance,
            expanded => Assert.Equal(plainLayers, expanded.modules().Count(m => m is ExpandedLayer)));
        Assert.Equal(plainLayers, model.modules().Count(m => m is Linear or Conv2d));
    }

    [Fact]
    public void Targets_and_patterns_choose_the_layers()
    {
        using var scope = NewDisposeScope();
        string Kinds(Module m) => string.Join(",", m.children().Select(c => c is ExpandedLayer ? "E" : "P"));
        using (var model = new SmallCnn(ScalarType.Float64))
            Assert.Equal("P,P,P,E,E", Kinds(Overparam.Expand(model, new ExpansionOptions { Targets = ExpansionTargets.Linear })));
        using (var model = new SmallCnn(ScalarType.Float64))
            Assert.Equal("E,E,E,P,P", Kinds(Overparam.Expand(model, new ExpansionOptions { Targets = ExpansionTargets.Conv2d })));
        using (var model = new SmallCnn(ScalarType.Float64))
            Assert.Equal("E,P,P,E,P", Kinds(Overparam.Expand(model, new ExpansionOptions { Include = ["conv1", "fc.*"], Exclude = ["fc2"] })));
    }

    [Fact]
    public void A_shared_layer_is_replaced_by_one_expansion_everywhere()
    {
        using var scope = NewDisposeScope();
        var shared = new Linear(3, 3, dtype: ScalarType.Float64);
        using var model = new Sequential(shared, shared);
        Overparam.Expand(model, new ExpansionOptions { Depth = 3 });
        Assert.IsType<ExpandedLinear>(model[0]);
        Assert.Same(model[0], model[1]);
        Assert.Equal(3, model.parameters().Count(p => p.dim() == 2));
    }

    [Fact]
    public void Effective_weights_cover_plain_and_expanded_layers()
    {
        using var scope = NewDisposeScope();
        using var model = new SmallCnn(ScalarType.Float64);
        Overparam.Expand(model, new ExpansionOptions { Targets = ExpansionTargets.Linear, Depth = 3 });
        IReadOnlyList<(string name, Tensor weight)> weights = Overparam.EffectiveWeights(model);
        Assert.Equal(["conv1", "conv2", "conv3", "fc1", "fc2"], weights.Select(w => w.name));
        Assert.Equal([10L, 32], weights[4].weight.shape);
        Assert.Equal(((Conv2d)model.conv1).weight.ToArray<double>(), weights[0].weight.ToArray<double>());
        Matrix<double> product = ((ExpandedLayer)model.fc2).factors.Select(TestData.ToMatrix).Aggregate((acc, w) => w * acc);
        TestData.AssertClose(product.ToRowMajorArray(), weights[4].weight, 1e-12);
    }
}
