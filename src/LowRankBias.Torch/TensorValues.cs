namespace LowRankBias.Torch;

/// <summary>Value checks that loaders run before they change anything.</summary>
internal static class TensorValues
{
    /// <summary>Whether every element of <paramref name="t"/> is finite (always true for integer and bool tensors).</summary>
    internal static bool AllFinite(Tensor t)
    {
        if (!t.dtype.IsFloatingPoint()) return true;
        using var scope = torch.NewDisposeScope();
        return t.isfinite().all().item<bool>();
    }

    /// <summary>A shape as PyTorch prints it, e.g. <c>[2, 3]</c>.</summary>
    internal static string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";
}
