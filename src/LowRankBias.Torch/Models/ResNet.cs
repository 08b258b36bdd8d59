using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Models;

/// <summary>
/// ResNet (He et al. 2016) laid out and named like torchvision's, so torchvision checkpoints load by name
/// (<see cref="from_pretrained"/>): the stem <see cref="conv1"/> (7×7, stride 2) → <see cref="bn1"/> →
/// <see cref="relu"/> → <see cref="maxpool"/> (3×3, stride 2), four stages <see cref="layer1"/> … <see cref="layer4"/>
/// of residual blocks (the first block of stages 2–4 halves the resolution), global average pooling
/// <see cref="avgpool"/> and the classifier <see cref="fc"/>. Any input of at least 1×1 after the five halvings works
/// (the pooling is adaptive).
/// </summary>
/// <remarks>
/// Initialisation as torchvision's: convolutions kaiming_normal_ (fan_out, ReLU gain), BatchNorm weight 1 and bias 0,
/// the classifier PyTorch's Linear default; with <see cref="Config.zero_init_residual"/> the last BatchNorm of every
/// residual branch starts at 0, so every block starts as the identity (Goyal et al. 2017).
/// </remarks>
public sealed partial class ResNet : Module
{
    /// <summary>Architecture of a <see cref="ResNet"/>; the defaults are ResNet-18 with 1000 classes.</summary>
    public sealed record Config
    {
        /// <summary>Whether the stages are built of <see cref="Bottleneck"/> blocks (ResNet-50 and deeper) rather than
        /// <see cref="BasicBlock"/>s.</summary>
        public bool bottleneck { get; init; }

        /// <summary>Blocks in each of the four stages.</summary>
        public IReadOnlyList<long> layers { get; init; } = [2, 2, 2, 2];

        /// <summary>Number of classes; 0 for no classifier (<see cref="fc"/> is an <see cref="Identity"/> and the model
        /// returns the pooled features [N, 8·width·expansion], as torchvision's <c>model.fc = nn.Identity()</c>).</summary>
        public long num_classes { get; init; } = 1000;

        /// <summary>Image channels (3 for RGB).</summary>
        public long in_channels { get; init; } = 3;

        /// <summary>Channels of the stem and the first stage; stage i has width·2^(i−1) (times 4 at a bottleneck's
        /// output). torchvision's ResNets have 64; smaller widths give CPU-sized models.</summary>
        public long width { get; init; } = 64;

        /// <summary>Start the last BatchNorm of every residual branch at zero.</summary>
        public bool zero_init_residual { get; init; }

        /// <summary>Output channels per unit of width of a block: 4 for bottleneck blocks, else 1.</summary>
        public long expansion => bottleneck ? 4 : 1;

        /// <summary>ResNet-18: basic blocks [2, 2, 2, 2], 11.7M parameters with 1000 classes.</summary>
        public static Config ResNet18 => new();

        /// <summary>ResNet-34: basic blocks [3, 4, 6, 3], 21.8M parameters with 1000 classes.</summary>
        public static Config ResNet34 => new() { layers = [3, 4, 6, 3] };

        /// <summary>ResNet-50: bottleneck blocks [3, 4, 6, 3], 25.6M parameters with 1000 classes.</summary>
        public static Config ResNet50 => new() { bottleneck = true, layers = [3, 4, 6, 3] };

        internal void Validate()
        {
            ArgumentNullException.ThrowIfNull(layers, nameof(layers));
            if (layers.Count != 4 || layers.Any(n => n < 1))
                throw new ArgumentException($"layers must give four positive block counts, got [{string.Join(", ", layers)}]", nameof(layers));
            ModelChecks.Positive(("in_channels", in_channels), ("width", width));
            if (num_classes < 0) throw new ArgumentOutOfRangeException(nameof(num_classes), num_classes, "num_classes must be positive, or 0 for no classifier");
        }
    }

    /// <summary>Builds the model described by <paramref name="config"/>.</summary>
    public ResNet(Config config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        this.config = config;
        long w = config.width;
        conv1 = new Conv2d(config.in_channels, w, 7, stride: 2, padding: 3, bias: false, device: device, dtype: dtype);
        bn1 = new BatchNorm2d(w, device: device, dtype: dtype);
        relu = new ReLU(inplace: true);
        maxpool = new MaxPool2d(3, stride: 2, padding: 1);
        long inplanes = w;
        Sequential Stage(int i) => MakeLayer(config, ref inplanes, w << i, config.layers[i], i == 0 ? 1 : 2, device, dtype);
        layer1 = Stage(0);
        layer2 = Stage(1);
        layer3 = Stage(2);
        layer4 = Stage(3);
        avgpool = new AdaptiveAvgPool2d(1);
        fc = config.num_classes == 0 ? new Identity() : new Linear(8 * w * config.expansion, config.num_classes, device: device, dtype: dtype);
        Initialize();
    }

    /// <summary>ResNet-18 (torchvision's <c>resnet18</c>).</summary>
    public static ResNet resnet18(long num_classes = 1000, long in_channels = 3, bool zero_init_residual = false, Device? device = null, ScalarType? dtype = null) =>
        new(Config.ResNet18 with { num_classes = num_classes, in_channels = in_channels, zero_init_residual = zero_init_residual }, device, dtype);

    /// <summary>ResNet-34 (torchvision's <c>resnet34</c>).</summary>
    public static ResNet resnet34(long num_classes = 1000, long in_channels = 3, bool zero_init_residual = false, Device? device = null, ScalarType? dtype = null) =>
        new(Config.ResNet34 with { num_classes = num_classes, in_channels = in_channels, zero_init_residual = zero_init_residual }, device, dtype);

    /// <summary>ResNet-50 v1.5 (torchvision's <c>resnet50</c>).</summary>
    public static ResNet resnet50(long num_classes = 1000, long in_channels = 3, bool zero_init_residual = false, Device? device = null, ScalarType? dtype = null) =>
        new(Config.ResNet50 with { num_classes = num_classes, in_channels = in_channels, zero_init_residual = zero_init_residual }, device, dtype);

    /// <summary>The architecture.</summary>
    public Config config { get; }

    /// <summary>Stem convolution, 7×7, stride 2, in_channels → width, no bias.</summary>
    public Module conv1 { get; }

    /// <summary>BatchNorm of the stem.</summary>
    public Module bn1 { get; }

    /// <summary>ReLU of the stem.</summary>
    public Module relu { get; }

    /// <summary>3×3 max pooling, stride 2, padding 1.</summary>
    public Module maxpool { get; }

    /// <summary>Stage 1 (resolution kept), blocks named "0", "1", ….</summary>
    public Sequential layer1 { get; }

    /// <summary>Stage 2 (resolution halved by its first block).</summary>
    public Sequential layer2 { get; }

    /// <summary>Stage 3 (resolution halved by its first block).</summary>
    public Sequential layer3 { get; }

    /// <summary>Stage 4 (resolution halved by its first block).</summary>
    public Sequential layer4 { get; }

    /// <summary>Global average pooling to 1×1.</summary>
    public Module avgpool { get; }

    /// <summary>Classifier 8·width·expansion → num_classes (an <see cref="Identity"/> when num_classes is 0).</summary>
    public Module fc { get; }

    /// <summary>Class logits [N, num_classes] for images [N, in_channels, H, W] (pooled features when num_classes is 0).</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4 || input.size(1) != config.in_channels)
            throw new ArgumentException($"ResNet expects images [N, {config.in_channels}, H, W], got shape [{string.Join(", ", input.shape)}]", nameof(input));
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor h = maxpool.call(relu.call(bn1.call(conv1.call(input))));
        h = layer4.call(layer3.call(layer2.call(layer1.call(h))));
        return fc.call(avgpool.call(h).flatten(1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Puts every BatchNorm2d of the model into the state fine-tuners keep it in: normalised with its running
    /// statistics, which stop moving, and its weight and bias no longer trained — each is replaced by a
    /// <see cref="FrozenBatchNorm2d"/> holding the same values, so <see cref="Module.train"/> does not undo it and
    /// optimizers no longer see them. The state dict keeps its keys. Returns this model.
    /// </summary>
    public ResNet freeze_batchnorm()
    {
        FrozenBatchNorm2d.convert_frozen_batchnorm(this);
        return this;
    }

    /// <summary>
    /// Folds every BatchNorm into the convolution before it, for deployment (the name of torchvision's
    /// <c>QuantizableResNet.fuse_model</c>; each pair through <see cref="torch.nn.utils.fuse_conv_bn_eval(Conv2d, BatchNorm2d)"/>):
    /// the convolution is replaced by its fused copy (with a bias) and the BatchNorm by an <see cref="Identity"/>, so
    /// an evaluation forward runs one op where it ran two and gives the same logits up to float32 rounding. Only valid
    /// for inference with fixed weights: the model must be in eval mode (<see cref="InvalidOperationException"/>
    /// otherwise) and stays a deployment model — returning to training would train the fused kernels without
    /// normalisation, and the state dict no longer has the BatchNorm keys (save or export the unfused model for
    /// checkpoints). Every convolution must be a plain <see cref="Conv2d"/> (merge LoRA adapters first) and every
    /// BatchNorm a <see cref="BatchNorm2d"/> with running statistics or a <see cref="FrozenBatchNorm2d"/>
    /// (<see cref="ArgumentException"/> naming the layer otherwise); all pairs are checked and fused before any is
    /// replaced. Pairs already fused are left alone. Returns this model.
    /// </summary>
    public ResNet fuse_model()
    {
        foreach ((string name, Module m) in named_modules())
            if (m.training)
                throw new InvalidOperationException($"fuse_model: {(name.Length == 0 ? "the model" : $"'{name}'")} is in training mode; fusing BatchNorm is only for eval: call eval() first");
        var pairs = new List<(string conv, string bn)> { ("conv1", "bn1") };
        foreach ((string stage, Sequential layer) in new[] { ("layer1", layer1), ("layer2", layer2), ("layer3", layer3), ("layer4", layer4) })
            foreach ((string name, Module block) in layer.named_children())
                pairs.AddRange(((ResNetBlock)block).ConvBnPairs().Select(p => ($"{stage}.{name}.{p.conv}", $"{stage}.{name}.{p.bn}")));
        var fused = new List<(string conv, string bn, Conv2d replacement)>();
        try
        {
            foreach ((string convPath, string bnPath) in pairs)
            {
                Module conv = get_submodule(convPath), bn = get_submodule(bnPath);
                if (bn is Identity) continue; // fused before
                if (conv is not Conv2d plain)
                    throw new ArgumentException($"fuse_model: '{convPath}' is a {conv.GetType().Name}, not a Conv2d; merge adapters (merge_and_unload) before fusing");
                fused.Add((convPath, bnPath, bn switch
                {
                    BatchNorm2d norm => torch.nn.utils.fuse_conv_bn_eval(plain, norm),
                    FrozenBatchNorm2d frozen => torch.nn.utils.fuse_conv_bn_eval(plain, frozen),
                    _ => throw new ArgumentException($"fuse_model: '{bnPath}' is a {bn.GetType().Name}, not a BatchNorm2d or FrozenBatchNorm2d"),
                }));
            }
        }
        catch
        {
            foreach ((_, _, Conv2d replacement) in fused) replacement.Dispose();
            throw;
        }
        foreach ((string convPath, string bnPath, Conv2d replacement) in fused)
        {
            Module conv = get_submodule(convPath), bn = get_submodule(bnPath);
            set_submodule(convPath, replacement);
            set_submodule(bnPath, new Identity().eval());
            conv.Dispose();
            bn.Dispose();
        }
        return this;
    }

    // torchvision's ResNet._make_layer: the first block takes the stride and, where the shape changes, a projection shortcut.
    private static Sequential MakeLayer(Config config, ref long inplanes, long planes, long blocks, long stride, Device? device, ScalarType? dtype)
    {
        long outplanes = planes * config.expansion;
        Module? downsample = stride != 1 || inplanes != outplanes ? ResNetBlock.Downsample(inplanes, outplanes, stride, device, dtype) : null;
        var stage = new Sequential();
        for (long i = 0; i < blocks; i++)
        {
            long from = i == 0 ? inplanes : outplanes, s = i == 0 ? stride : 1;
            Module? shortcut = i == 0 ? downsample : null;
            stage.append(config.bottleneck ? new Bottleneck(from, planes, s, shortcut, device, dtype) : new BasicBlock(from, planes, s, shortcut, device, dtype));
        }
        inplanes = outplanes;
        return stage;
    }

    private void Initialize()
    {
        using var noGrad = torch.no_grad();
        foreach (Module m in modules())
        {
            if (m is Conv2d conv) torch.nn.init.kaiming_normal_(conv.weight, mode: "fan_out", nonlinearity: "relu");
            else if (m is BatchNorm2d bn)
            {
                torch.nn.init.ones_(bn.weight!);
                torch.nn.init.zeros_(bn.bias!);
            }
        }
        if (!config.zero_init_residual) return;
        foreach (ResNetBlock block in modules().OfType<ResNetBlock>()) torch.nn.init.zeros_(block.LastNorm!.weight!);
    }
}
