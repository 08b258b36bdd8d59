using LowRankBias.Torch;

namespace LowRankBias.Spectral;

/// <summary>
/// Turns weights into the matrices the spectral metrics act on. Linear weights [out, in] are used as they are;
/// convolution weights [c_out, c_in, kh, kw] are reshaped per <see cref="ConvolutionLayout"/>. Transposed
/// convolutions store [c_in, c_out, kh, kw]: swap the first two dimensions before calling (Yunis et al. App. A.2).
/// Results are views where possible and belong to the caller's dispose scope.
/// </summary>
public static class WeightMatrices
{
    /// <summary>The weight as a stack of matrices [P, m, n]: P = 1 for linear weights and flattened convolutions,
    /// P = kh·kw (one c_out × c_in matrix per kernel position) for <see cref="ConvolutionLayout.PerKernelPosition"/>.</summary>
    public static Tensor AsMatrixBatch(Tensor weight, ConvolutionLayout layout = ConvolutionLayout.Flatten, string name = "")
    {
        long[] shape = CheckWeight(weight, name);
        if (shape.Length == 2 || layout == ConvolutionLayout.Flatten) return AsMatrix(weight, name).unsqueeze(0);
        using Tensor positionsFirst = weight.permute(2, 3, 0, 1);
        return positionsFirst.reshape(shape[2] * shape[3], shape[0], shape[1]);
    }

    /// <summary>A linear weight as it is, or a convolution weight flattened to c_out × (c_in·kh·kw) (Yunis et al. App. A.1).</summary>
    public static Tensor AsMatrix(Tensor weight, string name = "")
    {
        long[] shape = CheckWeight(weight, name);
        return shape.Length == 2 ? weight.alias() : weight.reshape(shape[0], shape[1] * shape[2] * shape[3]);
    }

    /// <summary>The c_out × c_in matrix at the kernel's centre position (kh/2, kw/2, rounded down), which Yunis et al.
    /// (App. A.1) align with the previous layer's output space.</summary>
    public static Tensor CentreSlice(Tensor convolutionWeight, string name = "")
    {
        long[] shape = CheckWeight(convolutionWeight, name);
        if (shape.Length != 4)
            throw new ArgumentException($"{Describe(name)}the centre slice needs a convolution weight [c_out, c_in, kh, kw], got [{string.Join(", ", shape)}]",
                nameof(convolutionWeight));
        using Tensor row = convolutionWeight.select(2, shape[2] / 2);
        return row.select(2, shape[3] / 2);
    }

    /// <summary>Checks that a weight is 2-D or 4-D, non-empty and floating point, and returns its shape.</summary>
    internal static long[] CheckWeight(Tensor weight, string name)
    {
        ArgumentNullException.ThrowIfNull(weight);
        long[] shape = weight.shape;
        if (shape.Length is not (2 or 4))
            throw new ArgumentException($"{Describe(name)}spectral metrics need a 2-D weight [out, in] or a 4-D convolution weight [c_out, c_in, kh, kw], got [{string.Join(", ", shape)}]",
                nameof(weight));
        if (shape.Any(d => d == 0))
            throw new ArgumentException($"{Describe(name)}the weight [{string.Join(", ", shape)}] is empty", nameof(weight));
        if (!weight.dtype.IsFloatingPoint())
            throw new ArgumentException($"{Describe(name)}spectral metrics need a floating-point weight, got {weight.dtype}", nameof(weight));
        return shape;
    }

    private static string Describe(string name) => name.Length == 0 ? "" : $"'{name}': ";
}
