using LowRankBias.Samples.TransferLearning;
using Alignment = LowRankBias.Spectral.PlatonicAlignment;

namespace LowRankBias.Samples.PlatonicAlignment;

/// <summary>
/// ML.NET's ImageNet ResNet-18 as a reference that never saw Fashion-MNIST (platonic-rep compares language models to
/// vision models the same way): its neighbour lists at every residual block (maps mean-pooled), on the images as the
/// transfer-learning sample feeds them (<see cref="Pretrained.Prepare"/>).
/// </summary>
internal static class ImagenetReference
{
    public static ModelNeighbours Neighbours(Tensor images, long size, PlatonicOptions options)
    {
        using Pretrained pretrained = Pretrained.Load(Pretrained.DefaultFolder);
        using var net = new ResNet(pretrained.Config with { num_classes = 0 });
        net.load_state_dict(pretrained.Backbone);   // strict: no classifier on either side
        FeatureTap[] taps = new[] { net.layer1, net.layer2, net.layer3, net.layer4 }
            .SelectMany((stage, s) => stage.named_children().Select(b => new FeatureTap($"layer{s + 1}.{b.name}", b.module)))
            .ToArray();
        using Tensor inputs = pretrained.Prepare(images, size);
        return Alignment.Neighbours("resnet18-imagenet", net, inputs, options, taps);
    }
}
