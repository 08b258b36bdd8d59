using LowRankBias.Overparam;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using TestData = LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Tests.Overparam;

using Overparam = LowRankBias.Overparam.Overparam;

/// <summary>Creates layers, which draw from libtorch's global generator: runs alone so tests that watch the generator are not disturbed.</summary>
[Collection(SerialCollection.Name)]
public sealed class ExpansionErrorTests
{
    [Fact]
    public void Depth_below_one_is_rejected()
    {
        using var layer = new Linear(4, 4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Overparam.Expand(layer, new ExpansionOptions { Depth = 0 }));
        Assert.Contains("at least 1", e.Message);
    }

    [Fact]
    public void A_width_below_min_m_n_is_rejected_unless_allowed()
    {
        using var scope = NewDisposeScope();
        var model = new Sequential(new Linear(8, 6));
        var e = Assert.Throws<ArgumentException>(() => Overparam.Expand(model, new ExpansionOptions { Width = 5 }));
        Assert.Contains("'0'", e.Message);
        Assert.Contains("caps the rank", e.Message);
        Assert.IsType<Linear>(model[0]);

        Overparam.Expand(model, new ExpansionOptions { Width = 5, AllowRankBottleneck = true });
        Assert.Equal([[5L, 8], [6, 5]], ((ExpandedLayer)model[0]).factors.Select(f => f.shape));
        model.Dispose();
    }

    [Fact]
    public void Conflicting_or_invalid_settings_are_rejected()
    {
        using var layer = new Linear(4, 4);
        Assert.Throws<ArgumentException>(() => Overparam.Expand(layer, new ExpansionOptions { Width = 8, WidthFactor = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Overparam.Expand(layer, new ExpansionOptions { Gain = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Overparam.Expand(layer, new ExpansionOptions { WidthFactor = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Overparam.Expand(layer, new ExpansionOptions { Targets = 0 }));
        var e = Assert.Throws<ArgumentException>(() => Overparam.Expand(layer, new ExpansionOptions { Include = ["fc("] }));
        Assert.Contains("regular expression", e.Message);
    }

    [Fact]
    public void Grouped_convolutions_are_rejected_clearly()
    {
        using var model = new Sequential(new Conv2d(4, 4, 3, groups: 2));
        var e = Assert.Throws<NotSupportedException>(() => Overparam.Expand(model));
        Assert.Contains("groups = 2", e.Message);
    }

    [Fact]
    public void Naming_an_unsupported_layer_is_rejected()
    {
        using var model = new EmbeddingModel();
        var e = Assert.Throws<NotSupportedException>(() => Overparam.Expand(model, new ExpansionOptions { Include = ["emb|fc"] }));
        Assert.Contains("Embedding", e.Message);
        Assert.IsType<Linear>(model.fc);
    }

    [Fact]
    public void A_pattern_or_model_without_layers_to_expand_is_rejected()
    {
        using (var model = new EmbeddingModel())
            Assert.Contains("'fc9'", Assert.Throws<ArgumentException>(() => Overparam.Expand(model, new ExpansionOptions { Include = ["fc9"] })).Message);
        using (var model = new Sequential(new Embedding(3, 2)))
            Assert.Contains("no Linear or Conv2d", Assert.Throws<ArgumentException>(() => Overparam.Expand(model)).Message);
        using (var model = new Sequential(new Linear(2, 2)))
            Assert.Contains("no Conv2d", Assert.Throws<ArgumentException>(() => Overparam.Expand(model, new ExpansionOptions { Targets = ExpansionTargets.Conv2d })).Message);
    }

    [Fact]
    public void Expanding_an_expanded_layer_again_is_rejected()
    {
        using var model = new Sequential(new Linear(2, 2));
        Overparam.Expand(model);
        Assert.Contains("already expanded", Assert.Throws<ArgumentException>(() => Overparam.Expand(model, new ExpansionOptions { Include = ["0"] })).Message);
    }

    [Fact]
    public void A_slot_that_cannot_hold_the_expansion_leaves_the_model_unchanged()
    {
        using var scope = NewDisposeScope();
        using var model = new RigidHead();
        Module body = model.body;
        Tensor x = TestData.Randn(5, 3, 4);
        Tensor before = model.call(x);
        var e = Assert.Throws<ArgumentException>(() => Overparam.Expand(model));
        Assert.Contains("declared as Linear", e.Message);
        Assert.Same(body, model.body);
        TestData.AssertClose(before.ToArray<double>(), model.call(x), 0);
    }

    [Fact]
    public void Collapsing_a_model_that_was_never_expanded_is_rejected()
    {
        using var model = new SmallCnn(ScalarType.Float32);
        var e = Assert.Throws<InvalidOperationException>(() => Overparam.Collapse(model));
        Assert.Contains("never expanded", e.Message);
    }

    [Fact]
    public void Effective_weight_of_an_unsupported_layer_is_rejected()
    {
        using var embedding = new Embedding(3, 2);
        Assert.Throws<ArgumentException>(() => Overparam.EffectiveWeight(embedding));
    }

    [Fact]
    public void Expanded_layers_reject_inputs_of_the_wrong_size()
    {
        using var scope = NewDisposeScope();
        using var plainLinear = new Linear(4, 2);
        using var linear = new ExpandedLinear(plainLinear);
        Assert.Contains("last dimension is 4", Assert.Throws<ArgumentException>(() => linear.call(zeros([3, 5]))).Message);
        using var plainConv = new Conv2d(3, 2, 1);
        using var conv = new ExpandedConv2d(plainConv);
        Assert.Contains("3 input channels", Assert.Throws<ArgumentException>(() => conv.call(zeros([1, 2, 4, 4]))).Message);
    }
}
