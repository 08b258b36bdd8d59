namespace LowRankBias.Torch.Modules;

/// <summary>Shape checks shared by the layers, so that bad input fails with a message naming the layer and the
/// expected shape instead of a libtorch error from deep inside an operator.</summary>
internal static class InputChecks
{
    /// <summary>"[2, 3, 28, 28]".</summary>
    public static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    /// <summary>Throws unless <paramref name="input"/> has one of the <paramref name="ranks"/>.</summary>
    public static void Rank(Tensor input, string layer, string layout, params int[] ranks)
    {
        if (!ranks.Contains(input.dim()))
            throw new ArgumentException($"{layer} expects a {layout} input, got shape {Shape(input)}", nameof(input));
    }

    /// <summary>Throws unless dimension <paramref name="dim"/> of <paramref name="input"/> has <paramref name="expected"/>
    /// entries; <paramref name="what"/> names that dimension ("channels", "features").</summary>
    public static void Size(Tensor input, int dim, long expected, string layer, string what)
    {
        long actual = input.size(dim);
        if (actual != expected)
            throw new ArgumentException($"{layer} expects {expected} {what}, got {actual} (input shape {Shape(input)})", nameof(input));
    }

    /// <summary>A (height, width) pair from one value (used for both) or two.</summary>
    public static long[] Pair(long[] values, string name, long minimum)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        long[] pair = values switch
        {
            [long both] => [both, both],
            [long h, long w] => [h, w],
            _ => throw new ArgumentException($"{name} takes one or two values, not {values.Length}", name),
        };
        if (pair.Any(v => v < minimum))
            throw new ArgumentOutOfRangeException(name, $"{name} must be at least {minimum}, got ({pair[0]}, {pair[1]})");
        return pair;
    }
}
