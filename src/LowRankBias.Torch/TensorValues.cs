namespace LowRankBias.Torch;

/// <summary>How messages show tensors.</summary>
internal static class TensorValues
{
    /// <summary>A shape as PyTorch prints it, e.g. <c>[2, 3]</c>.</summary>
    internal static string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";
}
