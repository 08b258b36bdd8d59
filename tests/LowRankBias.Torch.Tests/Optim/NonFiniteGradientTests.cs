using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Tests.Optim;

public class NonFiniteGradientTests
{
    [Fact]
    public void DivergingRateStopsAtTheFirstNonFiniteGradientWithTheWeightsStillFinite()
    {
        using var scope = NewDisposeScope();
        // loss p⁴, SGD at rate 1: p = 10 → −3990 → 2.5e11 → −6.6e34, whose gradient 4p³ overflows float32.
        Tensor p = tensor(new[] { 10f }, requires_grad: true);
        using var sgd = new SGD([p], lr: 1);
        float before = 0;
        int steps = 0;
        var error = Assert.Throws<NonFiniteGradientException>(() =>
        {
            for (; steps < 10; steps++)
            {
                before = p.item<float>();
                sgd.zero_grad();
                p.pow(4).sum().backward();
                sgd.step();
            }
        });

        Assert.Equal(3, steps); // the fourth step is refused
        Assert.Equal(0, error.Parameter);
        Assert.Contains("SGD.step(): the gradient of parameter 0 (shape [1]) holds 0 NaN and 1 ±∞ of its 1 values; no parameter was updated", error.Message);
        Assert.Equal(before, p.item<float>());
        Assert.True(float.IsFinite(before) && before < -1e34f);
    }

    [Fact]
    public void OptingOutAppliesNonFiniteGradientsAsPyTorchDoes()
    {
        using var scope = NewDisposeScope();
        Tensor p = tensor(new[] { 10f }, requires_grad: true);
        using var sgd = new SGD([p], lr: 1) { error_if_nonfinite = false };
        for (int step = 0; step < 10; step++)
        {
            sgd.zero_grad();
            p.pow(4).sum().backward();
            sgd.step();
        }
        Assert.True(float.IsNaN(p.item<float>()));
    }

    [Fact]
    public void NaNGradientInALaterGroupLeavesEveryParameterAndTheMomentsUntouched()
    {
        using var scope = NewDisposeScope();
        Tensor first = tensor(new[] { 1.0, 2.0 }, requires_grad: true), second = tensor(new[] { 3.0, 4.0, 5.0 }, requires_grad: true);
        using var adamW = new AdamW([new ParamGroup([first], new AdamWOptions { lr = 0.1 }), new ParamGroup([second], new AdamWOptions { lr = 0.1 })]);
        first.grad = tensor(new[] { 0.5, -0.5 });
        second.grad = tensor(new[] { 1.0, double.NaN, double.PositiveInfinity });

        var error = Assert.Throws<NonFiniteGradientException>(adamW.step);

        Assert.Equal(1, error.Parameter);
        Assert.Contains("parameter 1 (shape [3]) holds 1 NaN and 1 ±∞ of its 3 values", error.Message);
        Assert.Equal([1.0, 2.0], first.ToArray<double>());
        Assert.Equal([3.0, 4.0, 5.0], second.ToArray<double>());
        Assert.Empty(adamW.state_dict().state);
    }

    [Fact]
    public void LargeFiniteGradientsPassTheCheck()
    {
        using var scope = NewDisposeScope();
        // Their 2-norm overflows float32; their largest magnitude does not.
        Tensor p = tensor(new[] { 1f, 2f }, requires_grad: true);
        using var sgd = new SGD([p], lr: 0);
        p.grad = tensor(new[] { 3e38f, -3e38f });
        sgd.step();
        Assert.Equal([1f, 2f], p.ToArray<float>());
    }

    [Fact]
    public void MasterWeightsAreCheckedThroughTheirFloat32Gradients()
    {
        using var scope = NewDisposeScope();
        Tensor p = tensor(new[] { 1f, 2f }).to(ScalarType.Float16).requires_grad_();
        using var sgd = new SGD([p], lr: 0.1) { MasterWeights = true };
        p.grad = tensor(new[] { 1f, float.NegativeInfinity }).to(ScalarType.Float16);

        Assert.Throws<NonFiniteGradientException>(sgd.step);
        Assert.Equal([1f, 2f], p.to(ScalarType.Float32).ToArray<float>());
    }
}
