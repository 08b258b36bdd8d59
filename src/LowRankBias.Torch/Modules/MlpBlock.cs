namespace LowRankBias.Torch.Modules;

/// <summary>
/// The feed-forward block of transformers and MLP-Mixer: <see cref="fc1"/> (in → hidden), the activation
/// <see cref="act"/> (GELU by default), dropout, <see cref="fc2"/> (hidden → out), dropout.
/// </summary>
public sealed class MlpBlock : Module
{
    /// <summary>Creates the block; <paramref name="out_features"/> defaults to <paramref name="in_features"/>, the activation
    /// to <see cref="GELU"/>; the block owns the activation module it is given.</summary>
    public MlpBlock(long in_features, long hidden_features, long? out_features = null, Module? activation = null, double dropout = 0.0,
        bool bias = true, Device? device = null, ScalarType? dtype = null)
    {
        fc1 = new Linear(in_features, hidden_features, bias, device, dtype);
        act = activation ?? new GELU();
        fc2 = new Linear(hidden_features, out_features ?? in_features, bias, device, dtype);
        drop = new Dropout(dropout);
    }

    /// <summary>First linear layer, in → hidden.</summary>
    public Module fc1 { get; }

    /// <summary>The non-linearity.</summary>
    public Module act { get; }

    /// <summary>Second linear layer, hidden → out.</summary>
    public Module fc2 { get; }

    /// <summary>Dropout after the activation and after <see cref="fc2"/>.</summary>
    public Module drop { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using Tensor hidden = fc1.call(input);
        using Tensor activated = act.call(hidden);
        using Tensor dropped = drop.call(activated);
        using Tensor output = fc2.call(dropped);
        return drop.call(output);
    }
}
