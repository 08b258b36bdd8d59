using LowRankBias.Lora;

namespace LowRankBias.Samples.TransferLearning;

/// <summary>
/// One way of training ResNet-18 for Fashion-MNIST: what starts pretrained, what is trained, and at which learning rate
/// (AdamW, no weight decay, constant rate; chosen once for a short budget, not tuned per preset).
/// </summary>
internal sealed record Method(string Name, bool FromPretrained, int LoraRank, bool FreezeBackbone, double LearningRate)
{
    /// <summary>Every convolution of a torchvision-layout ResNet: the stem, those of each block, the projection shortcuts.</summary>
    public const string ConvolutionPaths = @"(.*\.)?conv\d|.*\.downsample\.0";

    public static readonly Method LinearProbe = new("linear probe", true, 0, true, 3e-3);
    public static readonly Method FullFineTuning = new("full fine-tuning", true, 0, false, 3e-4);
    public static readonly Method FromScratch = new("from scratch", false, 0, false, 1e-3);
    public static Method Lora(int r) => new($"LoRA r={r}", true, r, true, 1e-3);

    /// <summary>
    /// The model to train: <paramref name="pretrained"/>'s architecture with a new 10-way classifier, from its weights or
    /// random ones (torchvision's initialisation). The linear probe and LoRA freeze every BatchNorm (ImageNet statistics and affine kept) and the
    /// backbone; LoRA (α = 2r) goes on every convolution, the classifier is trained in full. Full fine-tuning and
    /// training from scratch train everything, BatchNorm in its usual training mode.
    /// </summary>
    public Module Build(Pretrained pretrained)
    {
        var net = new ResNet(pretrained.Config with { num_classes = 10 });
        if (FromPretrained)
        {
            var (missing, unexpected) = net.load_state_dict(pretrained.Backbone, strict: false);
            if (unexpected.Count > 0 || missing.Any(k => !k.StartsWith("fc.", StringComparison.Ordinal)))
                throw new InvalidDataException($"the pretrained ResNet-18 does not fit: missing {string.Join(", ", missing)}; unexpected {string.Join(", ", unexpected)}");
        }
        if (!FreezeBackbone) return net;
        net.freeze_batchnorm();
        if (LoraRank > 0)
            return new LoraModel(net, new LoraConfig { r = LoraRank, lora_alpha = 2 * LoraRank, target_modules = ConvolutionPaths, modules_to_save = ["fc"] });
        net.requires_grad_(false);
        net.fc.requires_grad_(true);
        return net;
    }
}
