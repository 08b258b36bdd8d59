using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Modules.Layers;

/// <summary>
/// <see cref="GradCheck"/> for a module's own parameters, which a closure cannot receive as fresh leaves: autograd's
/// gradient of a random projection of the output is compared with central differences taken by perturbing each
/// parameter element in place (and restoring it). The module must be float64 and deterministic (no dropout).
/// </summary>
public static class ModuleGradCheck
{
    /// <summary>Checks ∂(w·f())/∂θ for every parameter θ of <paramref name="module"/>.</summary>
    public static void Verify(Module module, Func<Tensor> f)
    {
        using DisposeScope scope = NewDisposeScope();
        module.zero_grad();
        Tensor output = f();
        Tensor projection = TestData.Randn(20240602, output.shape);
        (output * projection).sum().backward();

        // Errors are measured against the largest gradient of any parameter: some parameters have an exactly zero
        // gradient (a key bias only shifts every score of a softmax row alike), where a per-parameter scale is noise.
        var checks = module.named_parameters().Select(p => (p.name, analytic: Analytic(p.name, p.parameter), numeric: Numeric(f, p.parameter, projection))).ToList();
        double scale = checks.Max(c => Math.Max(c.numeric.Max(Math.Abs), c.analytic.Max(Math.Abs)));
        if (scale == 0) Assert.Fail("every gradient is identically zero, so the check would prove nothing");
        foreach ((string name, double[] analytic, double[] numeric) in checks)
            for (int j = 0; j < numeric.Length; j++)
                if (!(Math.Abs(analytic[j] - numeric[j]) / scale < GradCheck.Tolerance))
                    Assert.Fail($"{name}, element {j}: autograd {analytic[j]:R}, finite differences {numeric[j]:R}");
        module.zero_grad();
    }

    private static double[] Analytic(string name, Tensor parameter)
    {
        Assert.Equal(ScalarType.Float64, parameter.dtype);
        return (parameter.grad ?? throw new Xunit.Sdk.XunitException($"{name} received no gradient")).ToArray<double>();
    }

    private static double[] Numeric(Func<Tensor> f, Tensor parameter, Tensor projection)
    {
        using var noGrad = no_grad();
        using Tensor flat = parameter.view(-1);
        double[] values = flat.ToArray<double>();
        var gradient = new double[values.Length];
        for (int j = 0; j < gradient.Length; j++)
        {
            using Tensor element = flat.narrow(0, j, 1);
            element.fill_(values[j] + GradCheck.Step);
            double plus = Projected(f, projection);
            element.fill_(values[j] - GradCheck.Step);
            double minus = Projected(f, projection);
            element.fill_(values[j]);
            gradient[j] = (plus - minus) / (2 * GradCheck.Step);
        }
        return gradient;
    }

    private static double Projected(Func<Tensor> f, Tensor projection)
    {
        using DisposeScope scope = NewDisposeScope();
        return (f() * projection).sum().item<double>();
    }
}
