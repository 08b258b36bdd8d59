using LowRankBias.Torch;

namespace LowRankBias.Spectral;

// Small tensor helpers shared by the spectral code: argument checks with readable messages and the dtype rule.
internal static class SpectralTensors
{
    private const double Tiny = 1e-30;

    /// <summary>The tensor itself if float32/float64, else a float32 copy (half types have no LAPACK kernels).</summary>
    public static Tensor FloatingPoint(Tensor x) =>
        x.dtype is ScalarType.Float32 or ScalarType.Float64 ? x.alias() : x.to(ScalarType.Float32);

    /// <summary>x / ‖x‖ along a dimension; a zero vector stays zero.</summary>
    public static Tensor Normalized(Tensor x, long dim)
    {
        using Tensor norm = x.norm(2, [dim], keepdim: true);
        using Tensor safe = norm.clamp(min: Tiny);
        return x / safe;
    }

    public static string ShapeText(Tensor x) => $"[{string.Join(", ", x.shape)}]";

    /// <summary>Checks for a non-empty floating-point tensor of <paramref name="minDims"/>..<paramref name="maxDims"/> dimensions.</summary>
    public static void Check(Tensor x, string parameter, int minDims, int maxDims, string expected)
    {
        ArgumentNullException.ThrowIfNull(x, parameter);
        long[] shape = x.shape;
        if (shape.Length < minDims || shape.Length > maxDims) throw new ArgumentException($"expected {expected}, got {ShapeText(x)}", parameter);
        if (shape.Any(d => d == 0)) throw new ArgumentException($"expected {expected}, got the empty {ShapeText(x)}", parameter);
        if (!x.dtype.IsFloatingPoint()) throw new ArgumentException($"expected floating-point values, got {x.dtype}", parameter);
    }

    /// <summary>Throws when any entry is NaN or ±∞ (the SVD would fail or return garbage).</summary>
    public static void RequireFinite(Tensor x, string parameter)
    {
        using Tensor finite = x.isfinite();
        using Tensor all = finite.all();
        if (!all.item<bool>()) throw new ArgumentException("the values contain NaN or ±∞", parameter);
    }
}
