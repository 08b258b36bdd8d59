using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Tests.Optim;

public class AdamWTests
{
    private static readonly Quadratic Loss = new([1.0, 4.0, 0.25], [0.5, -1.0, 0.0]);

    /// <summary>One AdamW step in plain doubles; <paramref name="t"/> counts from 1.</summary>
    private static void ReferenceStep(double[] p, double[] g, double[] m, double[] v, double[] vMax, long t,
        double lr, double beta1, double beta2, double eps, double wd, bool amsgrad)
    {
        for (int i = 0; i < p.Length; i++)
        {
            p[i] *= 1 - lr * wd;
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            vMax[i] = Math.Max(vMax[i], v[i]);
            double denominator = Math.Sqrt(amsgrad ? vMax[i] : v[i]) / Math.Sqrt(1 - Math.Pow(beta2, t)) + eps;
            p[i] -= lr / (1 - Math.Pow(beta1, t)) * m[i] / denominator;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StepsMatchTheUpdateRuleInFloat64(bool amsgrad)
    {
        using var scope = NewDisposeScope();
        const double lr = 0.1, beta1 = 0.8, beta2 = 0.5, eps = 1e-3, wd = 0.2;
        double[] reference = [1.0, -2.0, 3.0];
        double[] m = new double[3], v = new double[3], vMax = new double[3];
        Tensor p = tensor((double[])reference.Clone(), requires_grad: true);
        using var opt = new AdamW([p], lr, (beta1, beta2), eps, wd, amsgrad);

        for (int t = 1; t <= 5; t++)
        {
            opt.zero_grad();
            Loss.Backward(p);
            opt.step();
            ReferenceStep(reference, Loss.Gradient(reference), m, v, vMax, t, lr, beta1, beta2, eps, wd, amsgrad);
            Quadratic.AssertClose(reference, p);
        }
        // β₂ = 0.5 lets v fall as gradients shrink, so the AMSGrad maximum really differs from v here.
        Assert.Contains(vMax.Zip(v), pair => pair.First > pair.Second * 1.01);
    }

    [Fact]
    public void AParameterThatJoinsLaterGetsItsOwnBiasCorrection()
    {
        using var scope = NewDisposeScope();
        const double lr = 0.05;
        Tensor early = tensor(new double[] { 1 }, requires_grad: true);
        Tensor late = tensor(new double[] { 2 }, requires_grad: true);
        using var opt = new AdamW([early, late], lr, weight_decay: 0.1);
        double[] pe = [1], pl = [2], me = [0], ve = [0], xe = [0], ml = [0], vl = [0], xl = [0];

        (early * 3).sum().backward();
        opt.step();
        ReferenceStep(pe, [3], me, ve, xe, 1, lr, 0.9, 0.999, 1e-8, 0.1, false);
        Quadratic.AssertClose(pl, late); // no gradient: untouched, not even decayed

        opt.zero_grad();
        (early * 3 + late * -2).sum().backward();
        opt.step();
        ReferenceStep(pe, [3], me, ve, xe, 2, lr, 0.9, 0.999, 1e-8, 0.1, false);
        ReferenceStep(pl, [-2], ml, vl, xl, 1, lr, 0.9, 0.999, 1e-8, 0.1, false);
        Quadratic.AssertClose(pe, early);
        Quadratic.AssertClose(pl, late);

        using OptimizerStateDict state = opt.state_dict();
        Assert.Equal(2, state.state[0].step);
        Assert.Equal(1, state.state[1].step);
        Assert.Equal(new[] { "exp_avg", "exp_avg_sq" }, state.state[0].tensors.Keys);
    }

    [Fact]
    public void BadHyperParametersAreClearErrors()
    {
        using var scope = NewDisposeScope();
        Tensor p = zeros([1], requires_grad: true);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW([p], betas: (0.9, 1.0)));
        Assert.Contains("beta2", error.Message);
        using var opt = new AdamW([p]);
        ((AdamWOptions)opt.param_groups[0].options).eps = -1;
        Assert.Throws<ArgumentOutOfRangeException>(() => opt.step());
    }
}
