using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Models;

/// <summary>ResNet.fuse_model: the fused model's logits against the unfused model's (float32), every BatchNorm gone, and
/// refusals that change nothing.</summary>
public sealed class ResNetFusionTests
{
    // Statistics and affine parameters far from the initial 0/1, so a fold that drops or misplaces any of them shows.
    private static ResNet Model(bool bottleneck)
    {
        manual_seed(3);
        var model = new ResNet(new ResNet.Config { bottleneck = bottleneck, width = 4, layers = [1, 2, 1, 1], num_classes = 7 });
        using var noGrad = no_grad();
        foreach (BatchNorm2d bn in model.modules().OfType<BatchNorm2d>())
        {
            bn.weight!.uniform_(0.5, 1.5);
            bn.bias!.normal_(0, 0.2);
            bn.running_mean!.normal_(0, 0.3);
            bn.running_var!.uniform_(0.2, 2);
        }
        return model;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FusedLogitsMatchTheUnfusedModel(bool bottleneck)
    {
        using var scope = NewDisposeScope();
        using ResNet model = Model(bottleneck);
        model.eval();
        Tensor x = randn([2, 3, 32, 24]);
        Tensor expected;
        using (no_grad()) expected = model.call(x);
        int norms = model.modules().OfType<BatchNorm2d>().Count();

        Assert.Same(model, model.fuse_model());
        Assert.Empty(model.modules().OfType<BatchNorm2d>());
        Assert.Equal(norms, model.modules().OfType<Conv2d>().Count(c => c.bias is not null));
        Tensor fused;
        using (no_grad()) fused = model.call(x);
        Assert.True(allclose(fused, expected, rtol: 1e-4, atol: 1e-5), $"max difference {(fused - expected).abs().max().item<float>()}");

        model.fuse_model(); // already fused: nothing left to fold, nothing changes
        using (no_grad()) Assert.True((model.call(x) == fused).all().item<bool>());
    }

    [Fact]
    public void FrozenBatchNormsFoldToo()
    {
        using var scope = NewDisposeScope();
        using ResNet model = Model(bottleneck: false);
        model.freeze_batchnorm().eval();
        Tensor x = randn([1, 3, 16, 16]);
        Tensor expected;
        using (no_grad()) expected = model.call(x);
        model.fuse_model();
        Assert.Empty(model.modules().OfType<FrozenBatchNorm2d>());
        using (no_grad()) Assert.True(allclose(model.call(x), expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void RefusesTrainingModeAndForeignLayersBeforeChangingAnything()
    {
        using ResNet model = Model(bottleneck: false);
        var training = Assert.Throws<InvalidOperationException>(() => model.fuse_model());
        Assert.Contains("the model is in training mode", training.Message);

        model.eval();
        int norms = model.modules().OfType<BatchNorm2d>().Count();
        model.layer3.set_submodule("0.conv2", new Sequential(((BasicBlock)model.layer3[0]).conv2).eval());
        model.layer1[0].train();
        Assert.Contains("'layer1.0' is in training mode", Assert.Throws<InvalidOperationException>(() => model.fuse_model()).Message);
        model.layer1[0].eval();
        var foreign = Assert.Throws<ArgumentException>(() => model.fuse_model());
        Assert.Contains("'layer3.0.conv2' is a Sequential, not a Conv2d", foreign.Message);
        // Checked before anything was replaced: the stem and the earlier stages keep their BatchNorms.
        Assert.IsType<BatchNorm2d>(model.bn1);
        Assert.IsType<BatchNorm2d>(((BasicBlock)model.layer1[0]).bn1);
        Assert.Equal(norms, model.modules().OfType<BatchNorm2d>().Count());
    }
}
