using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Tests.Optim;

public class SGDTests
{
    private static readonly Quadratic Loss = new([1.0, 2.0, 0.5], [0.3, -1.0, 0.2]);

    [Theory]
    [InlineData(0.0, 0.0, 0.0, false)]
    [InlineData(0.9, 0.0, 0.1, false)]
    [InlineData(0.9, 0.3, 0.0, false)]
    [InlineData(0.8, 0.0, 0.05, true)]
    public void StepsMatchTheUpdateRuleInFloat64(double momentum, double dampening, double weightDecay, bool nesterov)
    {
        using var scope = NewDisposeScope();
        const double lr = 0.1;
        double[] reference = [1.0, -2.0, 0.5];
        double[]? buffer = null;
        Tensor p = tensor((double[])reference.Clone(), requires_grad: true);
        using var opt = new SGD([p], lr, momentum, dampening, weightDecay, nesterov);

        for (int step = 0; step < 4; step++)
        {
            opt.zero_grad();
            Loss.Backward(p);
            opt.step();

            double[] g = Loss.Gradient(reference);
            for (int i = 0; i < g.Length; i++) g[i] += weightDecay * reference[i];
            if (momentum != 0)
            {
                buffer = buffer is null ? (double[])g.Clone() : buffer.Select((b, i) => momentum * b + (1 - dampening) * g[i]).ToArray();
                g = nesterov ? g.Select((v, i) => v + momentum * buffer[i]).ToArray() : buffer;
            }
            reference = reference.Select((v, i) => v - lr * g[i]).ToArray();
            Quadratic.AssertClose(reference, p);
        }
    }

    [Fact]
    public void EachGroupUsesItsOwnHyperParameters()
    {
        using var scope = NewDisposeScope();
        Tensor a = tensor(new double[] { 1, 2 }, requires_grad: true);
        Tensor b = tensor(new double[] { 1, 2 }, requires_grad: true);
        using var opt = new SGD([
            new ParamGroup([a], new SGDOptions { lr = 0.1 }),
            new ParamGroup([b], new SGDOptions { lr = 0.01, weight_decay = 0.5 }),
        ]);
        (a.sum() + b.sum()).backward();
        opt.step();
        Quadratic.AssertClose([1 - 0.1, 2 - 0.1], a);
        Quadratic.AssertClose([1 - 0.01 * (1 + 0.5), 2 - 0.01 * (1 + 1.0)], b);
    }

    [Fact]
    public void ZeroGradClearsOrZeroesAndParametersWithoutGradientStayPut()
    {
        using var scope = NewDisposeScope();
        Tensor used = tensor(new double[] { 1 }, requires_grad: true);
        Tensor idle = tensor(new double[] { 5 }, requires_grad: true);
        using var opt = new SGD([used, idle], lr: 1, weight_decay: 0.5);
        (used * 3).sum().backward();
        opt.step();
        Quadratic.AssertClose([1 - (3 + 0.5)], used);
        Quadratic.AssertClose([5], idle);

        opt.zero_grad(set_to_none: false);
        Assert.Equal(new double[] { 0 }, used.grad!.ToArray<double>());
        opt.zero_grad();
        Assert.Null(used.grad);
    }

    [Fact]
    public void InvalidSettingsAndParametersAreRejected()
    {
        using var scope = NewDisposeScope();
        Tensor p = zeros([2], ScalarType.Float64, requires_grad: true);
        Assert.Throws<ArgumentException>(() => new SGD([p], nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD([p], lr: -1));
        Assert.Throws<ArgumentException>(() => new SGD(Array.Empty<Tensor>()));
        Assert.Throws<ArgumentException>(() => new SGD([p, p]));
        var nonLeaf = Assert.Throws<ArgumentException>(() => new SGD([p * 2]));
        Assert.Contains("leaf", nonLeaf.Message);
        var wrongOptions = Assert.Throws<ArgumentException>(() => new SGD([new ParamGroup([p], new AdamWOptions())]));
        Assert.Contains("SGDOptions", wrongOptions.Message);
    }
}
