using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Models;

/// <summary>
/// A plain fully connected network: Linear layers <c>layers.0 … layers.{L−1}</c> between the given widths with the
/// activation <see cref="act"/> between consecutive layers (none after the last). With activation "identity" it is a
/// deep linear network, whose end-to-end map is the product of its weight matrices (least-squares experiments of
/// Huh's thesis and the LTE paper's appendix A.2). Initialisation: PyTorch's Linear default.
/// </summary>
public sealed class MLP : Module
{
    /// <summary>Architecture of an <see cref="MLP"/>.</summary>
    public sealed record Config
    {
        /// <summary>Input width, hidden widths and output width: L + 1 entries for L layers.</summary>
        public IReadOnlyList<long> widths { get; init; } = [64, 64, 64];

        /// <summary>The activation between layers, by name (see <see cref="Activations.Create"/>); "identity" for a linear network.</summary>
        public string activation { get; init; } = "relu";

        /// <summary>Whether the layers have biases.</summary>
        public bool bias { get; init; } = true;

        /// <summary>The thesis's least-squares ReLU networks: <paramref name="depth"/> layers, all of width <paramref name="width"/> (64 in the thesis).</summary>
        public static Config ReLUNetwork(int depth, long width = 64) => new() { widths = Uniform(depth, width) };

        /// <summary>A deep linear network: <paramref name="depth"/> bias-free square layers of width <paramref name="width"/>.</summary>
        public static Config DeepLinear(int depth, long width = 64) => new() { widths = Uniform(depth, width), activation = "identity", bias = false };

        private static long[] Uniform(int depth, long width)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
            return Enumerable.Repeat(width, depth + 1).ToArray();
        }
    }

    /// <summary>Builds the network described by <paramref name="config"/>.</summary>
    public MLP(Config config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.widths.Count < 2 || config.widths.Any(w => w < 1))
            throw new ArgumentException("widths must list at least an input and an output width, all positive", nameof(config));
        this.config = config;
        IReadOnlyList<long> w = config.widths;
        layers = new ModuleList(Enumerable.Range(0, w.Count - 1).Select(i => (Module)new Linear(w[i], w[i + 1], config.bias, device, dtype)));
        act = Activations.Create(config.activation);
    }

    /// <summary>The architecture.</summary>
    public Config config { get; }

    /// <summary>The linear layers, named "0", "1", ….</summary>
    public ModuleList layers { get; }

    /// <summary>The activation applied after every layer but the last.</summary>
    public Module act { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor h = input;
        for (int i = 0; i < layers.Count; i++)
        {
            h = layers[i].call(h);
            if (i < layers.Count - 1) h = act.call(h);
        }
        return h.MoveToOuterDisposeScope();
    }
}
