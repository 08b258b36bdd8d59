using System.Globalization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// Dropout (PyTorch's <c>nn.Dropout</c>): in training each element is zeroed with probability <see cref="p"/> and
/// the rest are scaled by 1/(1 − p); in evaluation the input passes unchanged.
/// </summary>
public sealed class Dropout : Module
{
    /// <summary>Creates the layer; <paramref name="p"/> must lie in [0, 1].</summary>
    public Dropout(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability has to be between 0 and 1");
        this.p = p;
    }

    /// <summary>Probability of zeroing an element.</summary>
    public double p { get; }

    /// <summary>Applies dropout when training; otherwise returns the input values (as a new handle).</summary>
    public override Tensor forward(Tensor input) => F.dropout(input, p, training);

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture, $"p={p}");
}
