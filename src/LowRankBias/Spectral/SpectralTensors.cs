using LowRankBias.Torch;

namespace LowRankBias.Spectral;

// Small tensor helpers shared by the spectral code: argument checks with readable messages and the dtype rule.
internal static class SpectralTensors
{
    private const double Tiny = 1e-30;

    /// <summary>The element type decompositions run in: float64 when asked for or already float64, else float32.</summary>
    public static ScalarType ComputeType(ScalarType input, bool float64) =>
        float64 || input == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

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

    /// <summary>A 2-D tensor's values as a host array (any device or floating type).</summary>
    public static double[,] ToHostMatrix(Tensor matrix)
    {
        int rows = (int)matrix.size(0), cols = (int)matrix.size(1);
        using Tensor converted = matrix.to(ScalarType.Float64);
        double[] flat = converted.ToArray<double>();
        var result = new double[rows, cols];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }

    /// <summary>"[d0, d1, …]" for messages.</summary>
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
