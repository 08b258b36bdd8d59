using LowRankBias.Spectral;

namespace LowRankBias.Tests.Spectral;

public class ParameterGradientAlignmentTests
{
    [Fact]
    public void CosineOfParametersAndNegativeGradientMatchesHandComputation()
    {
        using var scope = NewDisposeScope();
        Tensor w = tensor(new float[] { 1, 2, 2, 0 }, [2, 2]), bias = tensor(new float[] { 3, 4 });
        // a stationary point of L + (λ/2)‖θ‖²: ∇L = −λθ
        Assert.Equal(1, ParameterGradientAlignment.Global([(w, w * -0.1), (bias, bias * -0.1)]), 6);
        Assert.All(ParameterGradientAlignment.PerParameter([(w, w * -0.1), (bias, bias * -0.1)]), c => Assert.Equal(1, c, 6));

        Tensor gw = tensor(new float[] { -1, 0, 0, 1 }, [2, 2]), gb = tensor(new float[] { 0, -1 });
        // ⟨θ, −g⟩ = 1 + 4 = 5; ‖θ‖ = √34; ‖g‖ = √3
        Assert.Equal(5 / Math.Sqrt(34 * 3), ParameterGradientAlignment.Global([(w, gw), (bias, gb)]), 6);
        double[] per = ParameterGradientAlignment.PerParameter([(w, gw), (bias, gb)]);
        Assert.Equal(1 / Math.Sqrt(9 * 2), per[0], 6);
        Assert.Equal(4 / 5.0, per[1], 6);
    }

    [Fact]
    public void DegenerateAndMismatchedInputs()
    {
        using var scope = NewDisposeScope();
        Assert.True(double.IsNaN(ParameterGradientAlignment.Global([(ones([3]), zeros([3]))])));
        Assert.Throws<ArgumentException>(() => ParameterGradientAlignment.Global([(ones([3]), ones([4]))]));
        Assert.Throws<ArgumentException>(() => ParameterGradientAlignment.PerParameter([]));
    }
}
