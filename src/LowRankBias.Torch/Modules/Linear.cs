using System.Globalization;

namespace LowRankBias.Torch.Modules;

/// <summary>y = x Wᵀ + b (PyTorch's <c>nn.Linear</c>), with W of shape [out_features, in_features] initialised
/// like PyTorch: U(−1/√in, 1/√in) for W and b.</summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer; <paramref name="bias"/> false leaves <see cref="bias"/> null.</summary>
    public Linear(long in_features, long out_features, bool bias = true, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(in_features, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(out_features, 1);
        this.in_features = in_features;
        this.out_features = out_features;
        weight = register_parameter("weight", torch.empty([out_features, in_features], dtype, device));
        this.bias = register_parameter("bias", bias ? torch.empty([out_features], dtype, device) : null);
        reset_parameters();
    }

    /// <summary>Input size.</summary>
    public long in_features { get; }

    /// <summary>Output size.</summary>
    public long out_features { get; }

    /// <summary>The weight, [out_features, in_features].</summary>
    public Tensor weight { get; }

    /// <summary>The bias, [out_features], or null.</summary>
    public Tensor? bias { get; }

    /// <summary>Re-draws the parameters from PyTorch's default distribution (kaiming_uniform_ with a = √5, which
    /// is U(−1/√in, 1/√in), and the same bound for the bias).</summary>
    public void reset_parameters()
    {
        torch.nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (bias is not null)
        {
            double bound = 1 / Math.Sqrt(in_features);
            torch.nn.init.uniform_(bias, -bound, bound);
        }
    }

    /// <summary>x Wᵀ + b over the last dimension of <paramref name="input"/>.</summary>
    public override Tensor forward(Tensor input)
    {
        long last = input.dim() == 0 ? 0 : input.size(-1);
        if (last != in_features)
            throw new ArgumentException($"Linear expects inputs whose last dimension is {in_features}, got shape [{string.Join(", ", input.shape)}]", nameof(input));
        return torch.nn.functional.linear(input, weight, bias);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"in_features={in_features}, out_features={out_features}, bias={(bias is null ? "False" : "True")}");
}
