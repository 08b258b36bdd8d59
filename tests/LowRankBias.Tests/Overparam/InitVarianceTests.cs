using LowRankBias.Overparam;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;

namespace LowRankBias.Tests.Overparam;

using Overparam = LowRankBias.Overparam.Overparam;

/// <summary>
/// The expanded layer's output variance at initialisation must match the original layer's (the thesis found this
/// critical). Truth: a fresh PyTorch-default layer has W ~ U(−1/√n, 1/√n) and b from the same law, so for x ~ N(0, I)
/// E[y²] = n·Var(w) + Var(b) = 1/3 + 1/(3n) (Linear); the same holds for Conv2d with n = c_in·k² (away from padding).
/// Sampling error: one draw's mean squared output over B inputs and m outputs is ‖W_e‖_F²/m + ‖b‖²/m up to input
/// noise; for a product of d Gaussian factors ‖W_e‖_F² fluctuates by about √(2d/(h·n)) relative (≈ 6% for d = 8,
/// h = n = 64) and the first factor's scale copies the original draw's mean square (another ≈ √(2/(mn)) ≈ 2%). Averaging
/// over 32 independent (layer, expansion) draws brings the standard error near 1.5%, so the 10% tolerance is ≥ 6σ and
/// cannot flake, while real mistakes are far outside it: Kaiming's ReLU gain on the inner factors doubles the variance
/// per factor (×2^(d−1)), PyTorch's default init per factor shrinks it by 3^(d−1), and 1/n instead of 1/h scaling with
/// h = 2n gives ×2^(d−1).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class InitVarianceTests
{
    private const int Draws = 32;

    [Theory]
    [InlineData(2, 1.0)]
    [InlineData(4, 1.0)]
    [InlineData(8, 1.0)]
    [InlineData(4, 2.0)]
    [InlineData(8, 2.0)]
    public void Linear_expansion_keeps_the_output_variance(int depth, double widthFactor)
    {
        const long n = 64, m = 48;
        manual_seed(11);
        using Tensor x = randn([1024, n]);
        double sum = 0;
        for (int i = 0; i < Draws; i++)
        {
            using var scope = NewDisposeScope();
            Module layer = Overparam.Expand(new Linear(n, m), new ExpansionOptions { Depth = depth, WidthFactor = widthFactor });
            sum += layer.call(x).square().mean().item<float>();
            layer.Dispose();
        }
        AssertWithinTenPercent(1.0 / 3 + 1.0 / (3 * n), sum / Draws);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Conv2d_expansion_keeps_the_output_variance(int depth)
    {
        const long c = 16, k = 3;
        manual_seed(12);
        using Tensor x = randn([16, c, 10, 10]);
        double sum = 0;
        for (int i = 0; i < Draws; i++)
        {
            using var scope = NewDisposeScope();
            Module layer = Overparam.Expand(new Conv2d(c, 24, k), new ExpansionOptions { Depth = depth });
            sum += layer.call(x).square().mean().item<float>();
            layer.Dispose();
        }
        AssertWithinTenPercent(1.0 / 3 + 1.0 / (3 * c * k * k), sum / Draws);
    }

    [Fact]
    public void Gain_scales_the_output_standard_deviation()
    {
        const long n = 64;
        manual_seed(13);
        using Tensor x = randn([1024, n]);
        double sum = 0;
        for (int i = 0; i < Draws; i++)
        {
            using var scope = NewDisposeScope();
            Module layer = Overparam.Expand(new Linear(n, n, bias: false), new ExpansionOptions { Depth = 4, Gain = 2 });
            sum += layer.call(x).square().mean().item<float>();
            layer.Dispose();
        }
        AssertWithinTenPercent(4.0 / 3, sum / Draws);
    }

    private static void AssertWithinTenPercent(double expected, double actual) =>
        Assert.True(Math.Abs(actual / expected - 1) <= 0.10, $"mean squared output {actual:F4}, expected {expected:F4} ± 10%");
}
