using System.Globalization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// Layer normalisation (PyTorch's <c>nn.LayerNorm</c>): each sample is normalised over its trailing
/// <see cref="normalized_shape"/> dimensions, (x − mean)/√(var + eps) with the biased variance, then scaled by
/// <see cref="weight"/> (ones) and shifted by <see cref="bias"/> (zeros).
/// </summary>
public sealed class LayerNorm : Module
{
    /// <summary>Normalises over the last dimension, of size <paramref name="normalized_shape"/>.</summary>
    public LayerNorm(long normalized_shape, double eps = 1e-5, bool elementwise_affine = true, bool bias = true,
        Device? device = null, ScalarType? dtype = null)
        : this([normalized_shape], eps, elementwise_affine, bias, device, dtype)
    {
    }

    /// <summary>Normalises over the trailing dimensions given by <paramref name="normalized_shape"/>.
    /// <paramref name="elementwise_affine"/> false omits weight and bias; <paramref name="bias"/> false omits only the bias.</summary>
    public LayerNorm(long[] normalized_shape, double eps = 1e-5, bool elementwise_affine = true, bool bias = true,
        Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(normalized_shape);
        if (normalized_shape.Length == 0 || normalized_shape.Any(s => s < 1))
            throw new ArgumentException($"normalized_shape must list positive sizes, got [{string.Join(", ", normalized_shape)}]", nameof(normalized_shape));
        ArgumentOutOfRangeException.ThrowIfNegative(eps);
        this.normalized_shape = (long[])normalized_shape.Clone();
        this.eps = eps;
        this.elementwise_affine = elementwise_affine;
        weight = register_parameter("weight", elementwise_affine ? torch.ones(normalized_shape, dtype, device) : null);
        this.bias = register_parameter("bias", elementwise_affine && bias ? torch.zeros(normalized_shape, dtype, device) : null);
    }

    /// <summary>The trailing dimensions normalised over.</summary>
    public long[] normalized_shape { get; }

    /// <summary>Added to the variance for numerical stability.</summary>
    public double eps { get; }

    /// <summary>Whether the layer has a learned scale (and bias).</summary>
    public bool elementwise_affine { get; }

    /// <summary>The scale, shaped like <see cref="normalized_shape"/>, or null.</summary>
    public Tensor? weight { get; }

    /// <summary>The shift, shaped like <see cref="normalized_shape"/>, or null.</summary>
    public Tensor? bias { get; }

    /// <summary>Normalises <paramref name="input"/>, whose trailing dimensions must equal <see cref="normalized_shape"/>.</summary>
    public override Tensor forward(Tensor input)
    {
        long[] shape = input.shape;
        if (shape.Length < normalized_shape.Length || !shape.AsSpan(shape.Length - normalized_shape.Length).SequenceEqual(normalized_shape))
            throw new ArgumentException($"LayerNorm expects inputs ending in [{string.Join(", ", normalized_shape)}], got shape {InputChecks.Shape(input)}", nameof(input));
        return F.layer_norm(input, normalized_shape, weight, bias, eps);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"({string.Join(", ", normalized_shape)},), eps={eps}, elementwise_affine={(elementwise_affine ? "True" : "False")}");
}
