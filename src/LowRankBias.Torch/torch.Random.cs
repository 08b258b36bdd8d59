namespace LowRankBias.Torch;

// Sampling functions driven by the global generator (seed it with manual_seed).
public static partial class torch
{
    private static readonly Op s_normalSizes = new("aten::normal", "float_float"), s_normalTensors = new("aten::normal", "Tensor_Tensor");
    private static readonly Op s_normalTensorMean = new("aten::normal", "Tensor_float");
    private static readonly Op s_bernoulli = new("aten::bernoulli"), s_bernoulliP = new("aten::bernoulli", "p");
    private static readonly Op s_multinomial = new("aten::multinomial");

    /// <summary>Samples of N(mean, std²) of the given shape.</summary>
    public static Tensor normal(double mean, double std, long[] size, ScalarType? dtype = null, Device? device = null) =>
        s_normalSizes.Call(mean, std, size, Arg.None, dtype, Arg.None, device);

    /// <summary>One sample of N(mean[i], std[i]²) per element; the two tensors must have the same number of elements.</summary>
    public static Tensor normal(Tensor mean, Tensor std) => s_normalTensors.Call(mean, std);

    /// <summary>One sample of N(mean[i], std²) per element of <paramref name="mean"/>.</summary>
    public static Tensor normal(Tensor mean, double std = 1) => s_normalTensorMean.Call(mean, std);

    /// <summary>0/1 samples, 1 with probability given elementwise by <paramref name="input"/> (values in [0, 1]).</summary>
    public static Tensor bernoulli(Tensor input) => s_bernoulli.Call(input);

    /// <summary>0/1 samples shaped like <paramref name="input"/>, 1 with probability <paramref name="p"/>.</summary>
    public static Tensor bernoulli(Tensor input, double p) => s_bernoulliP.Call(input, p);

    /// <summary>
    /// Category indices (int64) drawn with probability proportional to the non-negative weights in the last dimension of
    /// <paramref name="input"/> (1-D, or 2-D for one draw per row).
    /// </summary>
    public static Tensor multinomial(Tensor input, long num_samples, bool replacement = false) =>
        s_multinomial.Call(input, num_samples, replacement);
}
