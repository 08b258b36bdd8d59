namespace LowRankBias.Torch.Tests;

/// <summary>
/// Checks autograd against central finite differences in float64. The output y = f(x₁, …) is projected on a fixed
/// random tensor w (L = Σ w·y), so one backward pass gives ∂L/∂xᵢ for every input; each element of each input is
/// then perturbed by ±h and (L(x + h) − L(x − h)) / 2h compared with it. A random projection catches any wrong
/// Jacobian entry with probability one. Reuse it for modules: capture parameters in the closure or pass them as inputs.
/// </summary>
public static class GradCheck
{
    /// <summary>Finite-difference step.</summary>
    public const double Step = 1e-6;

    /// <summary>Largest accepted relative error ‖analytic − numeric‖∞ / ‖numeric‖∞ per input.</summary>
    public const double Tolerance = 1e-6;

    /// <summary>Checks the gradient of a one-input function.</summary>
    public static void Verify(Func<Tensor, Tensor> f, Tensor input) => Verify(xs => f(xs[0]), [input]);

    /// <summary>Checks the gradients of a two-input function with respect to both inputs.</summary>
    public static void Verify(Func<Tensor, Tensor, Tensor> f, Tensor a, Tensor b) => Verify(xs => f(xs[0], xs[1]), [a, b]);

    /// <summary>Checks the gradients of a three-input function with respect to all inputs.</summary>
    public static void Verify(Func<Tensor, Tensor, Tensor, Tensor> f, Tensor a, Tensor b, Tensor c) =>
        Verify(xs => f(xs[0], xs[1], xs[2]), [a, b, c]);

    /// <summary>Checks the gradients of f with respect to every one of <paramref name="inputs"/> (float64, left unchanged).</summary>
    public static void Verify(Func<Tensor[], Tensor> f, Tensor[] inputs)
    {
        using DisposeScope scope = NewDisposeScope();
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].dtype != ScalarType.Float64)
                throw new ArgumentException($"input {i} is {inputs[i].dtype}; gradient checks need float64", nameof(inputs));

        Tensor[] leaves = inputs.Select(x => x.detach().clone().requires_grad_()).ToArray();
        Tensor output = f(leaves);
        Assert.Equal(ScalarType.Float64, output.dtype);
        Tensor projection = TestData.Randn(20240601, output.shape);
        (output * projection).sum().backward();

        for (int i = 0; i < leaves.Length; i++)
        {
            double[] analytic = (leaves[i].grad ?? throw new Xunit.Sdk.XunitException($"input {i} received no gradient")).ToArray<double>();
            double[] numeric = NumericGradient(f, leaves, i, projection);
            double scale = Math.Max(numeric.Max(Math.Abs), analytic.Max(Math.Abs));
            if (scale == 0) Assert.Fail($"input {i}: the gradient is identically zero, so the check would prove nothing");
            int worst = 0;
            for (int j = 1; j < numeric.Length; j++)
                if (Math.Abs(analytic[j] - numeric[j]) > Math.Abs(analytic[worst] - numeric[worst])) worst = j;
            double relative = Math.Abs(analytic[worst] - numeric[worst]) / scale;
            if (!(relative < Tolerance))
                Assert.Fail($"input {i}, element {worst}: autograd {analytic[worst]:R}, finite differences {numeric[worst]:R} (relative error {relative:E2})");
        }
    }

    private static double[] NumericGradient(Func<Tensor[], Tensor> f, Tensor[] leaves, int which, Tensor projection)
    {
        long[] shape = leaves[which].shape;
        double[] values = leaves[which].detach().ToArray<double>();
        var gradient = new double[values.Length];
        var arguments = (Tensor[])leaves.Clone();
        for (int j = 0; j < values.Length; j++)
        {
            double original = values[j];
            values[j] = original + Step;
            double plus = Projected(f, arguments, which, values, shape, projection);
            values[j] = original - Step;
            double minus = Projected(f, arguments, which, values, shape, projection);
            values[j] = original;
            gradient[j] = (plus - minus) / (2 * Step);
        }
        return gradient;
    }

    private static double Projected(Func<Tensor[], Tensor> f, Tensor[] arguments, int which, double[] values, long[] shape, Tensor projection)
    {
        using DisposeScope scope = NewDisposeScope();
        using var noGrad = no_grad();
        arguments[which] = tensor(values, shape);
        return (f(arguments) * projection).sum().item<double>();
    }
}
