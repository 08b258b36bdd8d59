using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Models;

/// <summary>Activation modules by their PyTorch function names, so that model configurations stay plain data.</summary>
public static class Activations
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["relu", "gelu", "gelu_tanh", "silu", "tanh", "sigmoid", "identity"];

    /// <summary>A new activation module: relu, gelu, gelu_tanh (GELU's tanh approximation), silu, tanh, sigmoid or
    /// identity (no non-linearity: a linear network).</summary>
    public static Module Create(string name) => name switch
    {
        "relu" => new ReLU(),
        "gelu" => new GELU(),
        "gelu_tanh" => new GELU("tanh"),
        "silu" => new SiLU(),
        "tanh" => new Tanh(),
        "sigmoid" => new Sigmoid(),
        "identity" => new Identity(),
        _ => throw new ArgumentException($"unknown activation '{name}': expected one of {string.Join(", ", Names)}", nameof(name)),
    };
}
