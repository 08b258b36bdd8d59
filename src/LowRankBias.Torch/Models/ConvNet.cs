using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Models;

/// <summary>
/// The CNN of Huh's thesis (appendix 7.5; Huh et al. 2023), used for CIFAR and for the over-parameterization
/// experiments: convolutions 3→64, 64→128, 128→256 each followed by 2×2 max pooling and ReLU, 256→512 with ReLU,
/// global max pooling, FC 512→256, ReLU, FC 256→classes. The thesis does not state the kernel; every convolution is
/// 3×3 with padding 1 (the common choice, which keeps the spatial size until each pooling). Initialisation: PyTorch's
/// layer defaults.
/// </summary>
public sealed class ConvNet : Module
{
    /// <summary>Architecture of a <see cref="ConvNet"/>; the defaults are the thesis's CIFAR-10 network.</summary>
    public sealed record Config
    {
        /// <summary>Image channels (3 for CIFAR, 1 for Fashion-MNIST).</summary>
        public long in_channels { get; init; } = 3;

        /// <summary>Number of classes.</summary>
        public long num_classes { get; init; } = 10;

        /// <summary>Output channels of each convolution; every one but the last is followed by max pooling.</summary>
        public IReadOnlyList<long> channels { get; init; } = [64, 128, 256, 512];

        /// <summary>Width of the hidden fully connected layer.</summary>
        public long hidden_features { get; init; } = 256;

        /// <summary>The thesis's network for CIFAR-10 (3 channels, 10 classes).</summary>
        public static Config Cifar10 => new();

        /// <summary>The thesis's network for CIFAR-100.</summary>
        public static Config Cifar100 => new() { num_classes = 100 };

        /// <summary>The same network for Fashion-MNIST (1 channel, 10 classes; 28→14→7→3 before global pooling).</summary>
        public static Config FashionMnist => new() { in_channels = 1 };

        internal void Validate()
        {
            if (channels.Count == 0 || channels.Any(c => c < 1)) throw new ArgumentException("channels must list at least one positive width");
            foreach ((string name, long value) in new[] { ("in_channels", in_channels), ("num_classes", num_classes), ("hidden_features", hidden_features) })
                if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive");
        }
    }

    /// <summary>Builds the model described by <paramref name="config"/>.</summary>
    public ConvNet(Config config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        this.config = config;
        long[] widths = [config.in_channels, .. config.channels];
        convs = new ModuleList(Enumerable.Range(0, config.channels.Count)
            .Select(i => (Module)new Conv2d(widths[i], widths[i + 1], 3, padding: 1, device: device, dtype: dtype)));
        fc1 = new Linear(widths[^1], config.hidden_features, device: device, dtype: dtype);
        fc2 = new Linear(config.hidden_features, config.num_classes, device: device, dtype: dtype);
    }

    /// <summary>The architecture.</summary>
    public Config config { get; }

    /// <summary>The 3×3 convolutions, named "0", "1", ….</summary>
    public ModuleList convs { get; }

    /// <summary>Hidden fully connected layer.</summary>
    public Module fc1 { get; }

    /// <summary>Classifier.</summary>
    public Module fc2 { get; }

    /// <summary>Class logits [N, num_classes] for images [N, in_channels, H, W] (H, W ≥ 2^(convolutions − 1)).</summary>
    public override Tensor forward(Tensor input)
    {
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor h = input;
        for (int i = 0; i < convs.Count; i++)
        {
            h = convs[i].call(h);
            if (i < convs.Count - 1)
            {
                if (h.size(-1) < 2 || h.size(-2) < 2)
                    throw new ArgumentException($"ConvNet: input shape [{string.Join(", ", input.shape)}] is too small for {convs.Count - 1} poolings", nameof(input));
                h = torch.nn.functional.max_pool2d(h, [2]);
            }
            h = h.relu();
        }
        Tensor pooled = h.amax([-2, -1]);
        Tensor hidden = fc1.call(pooled).relu();
        return fc2.call(hidden).MoveToOuterDisposeScope();
    }
}
