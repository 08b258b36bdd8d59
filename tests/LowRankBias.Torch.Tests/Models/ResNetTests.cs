using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Models;

/// <summary>ResNet's shape and construction: torchvision's published parameter counts, any input size, the
/// zero_init_residual identity, input and configuration checks.</summary>
public sealed class ResNetTests
{
    [Fact]
    public void ParameterCountsAreTorchvisions()
    {
        // torchvision's model cards (num_params of ResNet18/50_Weights.IMAGENET1K_V1), 1000 classes; one model per block type.
        foreach ((Func<ResNet> build, long count) in new (Func<ResNet>, long)[] { (() => ResNet.resnet18(), 11_689_512), (() => ResNet.resnet50(), 25_557_032) })
        {
            using ResNet model = build();
            Assert.Equal(count, model.parameters().Sum(p => p.numel()));
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(32, 32)]
    [InlineData(33, 47)]
    public void AnyInputSizeGivesOneLogitVectorPerImage(long height, long width)
    {
        using var scope = NewDisposeScope();
        using var model = new ResNet(new ResNet.Config { width = 2, layers = [1, 1, 1, 1], in_channels = 2, num_classes = 5 });
        model.eval();
        Assert.Equal([3L, 5], model.call(randn([3, 2, height, width])).shape);
    }

    [Fact]
    public void ZeroInitResidualMakesEveryIdentityShortcutBlockTheIdentity()
    {
        using var scope = NewDisposeScope();
        using var model = new ResNet(new ResNet.Config { width = 4, layers = [2, 2, 1, 1], zero_init_residual = true });
        Assert.All(model.modules().OfType<ResNetBlock>(), b => Assert.Equal(0, ((BatchNorm2d)(b is BasicBlock basic ? basic.bn2 : ((Bottleneck)b).bn3)).weight!.abs().sum().item<float>()));
        // relu(0 + x) = x for the non-negative maxpool output that enters layer1 (no projection there for basic blocks).
        Tensor h = model.maxpool.call(model.relu.call(model.bn1.call(model.conv1.call(randn([2, 3, 16, 16])))));
        Assert.True((model.layer1.call(h) == h).all().item<bool>());
    }

    [Fact]
    public void StagesHaveTorchvisionsShortcutsAndStrides()
    {
        using var model = new ResNet(ResNet.Config.ResNet50 with { width = 8 });
        var blocks = model.named_modules().Where(m => m.module is Bottleneck).ToList();
        Assert.Equal(16, blocks.Count);
        // Every stage's first block projects its shortcut (bottleneck widths change even in layer1); only those do.
        Assert.Equal(["layer1.0", "layer2.0", "layer3.0", "layer4.0"], blocks.Where(b => ((Bottleneck)b.module).downsample is not null).Select(b => b.name));
        var first = (Bottleneck)model.layer2[0];
        Assert.Equal([1L, 1], ((Conv2d)first.conv1).stride);                 // v1.5: the stride sits on the 3×3 convolution
        Assert.Equal([2L, 2], ((Conv2d)first.conv2).stride);
        Assert.Equal([2L, 2], ((Conv2d)((Sequential)first.downsample!)[0]).stride);
        Assert.Equal([64L, 32, 1, 1], ((Conv2d)((Sequential)first.downsample!)[0]).weight.shape);   // 4·width → 8·width
        using var basic = new ResNet(ResNet.Config.ResNet18 with { width = 8 });
        Assert.Null(((BasicBlock)basic.layer1[0]).downsample);
    }

    [Fact]
    public void BadInputsAndConfigurationsAreNamed()
    {
        using var scope = NewDisposeScope();
        using var model = new ResNet(new ResNet.Config { width = 2, layers = [1, 1, 1, 1] });
        var channels = Assert.Throws<ArgumentException>(() => model.call(zeros([1, 1, 8, 8])));
        Assert.Contains("[N, 3, H, W], got shape [1, 1, 8, 8]", channels.Message);
        var layers = Assert.Throws<ArgumentException>(() => new ResNet(new ResNet.Config { layers = [2, 2, 2] }));
        Assert.Contains("four positive block counts, got [2, 2, 2]", layers.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResNet(new ResNet.Config { width = 0 }));
    }
}
