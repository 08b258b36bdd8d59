using System.Globalization;

namespace LowRankBias.Torch.Modules;

/// <summary>Flattens dimensions <see cref="start_dim"/> … <see cref="end_dim"/> into one (PyTorch's <c>nn.Flatten</c>;
/// by default everything but the batch dimension).</summary>
public sealed class Flatten(long start_dim = 1, long end_dim = -1) : Module
{
    /// <summary>First dimension flattened.</summary>
    public long start_dim { get; } = start_dim;

    /// <summary>Last dimension flattened (negative counts from the end).</summary>
    public long end_dim { get; } = end_dim;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => input.flatten(start_dim, end_dim);

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture, $"start_dim={start_dim}, end_dim={end_dim}");
}
