using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

// Element-wise activations as modules, so they can sit in containers, carry hooks and be named in a model tree.

/// <summary>max(x, 0) (PyTorch's <c>nn.ReLU</c>).</summary>
public sealed class ReLU : Module
{
    /// <summary>Creates the layer; with <paramref name="inplace"/> it overwrites and returns its input, saving an
    /// allocation (torchvision's ResNets use it after each BatchNorm).</summary>
    public ReLU(bool inplace = false) => this.inplace = inplace;

    /// <summary>Whether forward overwrites its input.</summary>
    public bool inplace { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => inplace ? F.relu_(input) : F.relu(input);

    /// <inheritdoc />
    public override string extra_repr() => inplace ? "inplace=True" : "";
}

/// <summary>x·Φ(x), or its tanh approximation with <c>approximate = "tanh"</c> (PyTorch's <c>nn.GELU</c>).</summary>
public sealed class GELU : Module
{
    /// <summary>Creates the layer; <paramref name="approximate"/> is "none" (exact, with erf) or "tanh".</summary>
    public GELU(string approximate = "none")
    {
        if (approximate is not ("none" or "tanh"))
            throw new ArgumentException($"approximate must be \"none\" or \"tanh\", got \"{approximate}\"", nameof(approximate));
        this.approximate = approximate;
    }

    /// <summary>"none" or "tanh".</summary>
    public string approximate { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => F.gelu(input, approximate);

    /// <inheritdoc />
    public override string extra_repr() => approximate == "none" ? "" : $"approximate='{approximate}'";
}

/// <summary>x·sigmoid(x) (PyTorch's <c>nn.SiLU</c>).</summary>
public sealed class SiLU : Module
{
    /// <inheritdoc />
    public override Tensor forward(Tensor input) => F.silu(input);
}

/// <summary>Hyperbolic tangent (PyTorch's <c>nn.Tanh</c>).</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc />
    public override Tensor forward(Tensor input) => F.tanh(input);
}

/// <summary>1/(1 + e^−x) (PyTorch's <c>nn.Sigmoid</c>).</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc />
    public override Tensor forward(Tensor input) => F.sigmoid(input);
}
