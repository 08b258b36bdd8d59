using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests;

/// <summary>The gradient checker itself must be able to fail.</summary>
public class GradCheckTests
{
    [Fact]
    public void RejectsAGradientThatMissesATerm()
    {
        using DisposeScope scope = NewDisposeScope();
        // d(x·x)/dx = 2x, but detaching one factor makes autograd report x.
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => GradCheck.Verify(x => x * x.detach(), Randn(1, 4)));
    }

    [Fact]
    public void RejectsAnIdenticallyZeroGradient()
    {
        using DisposeScope scope = NewDisposeScope();
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => GradCheck.Verify(x => x * 0.0, Randn(2, 4)));
    }

    [Fact]
    public void RejectsSinglePrecisionInputs()
    {
        using DisposeScope scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => GradCheck.Verify(x => x.exp(), ones([3])));
    }

    [Fact]
    public void LeavesTheInputsUnchanged()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Randn(3, 5);
        double[] before = x.ToArray<double>();
        GradCheck.Verify(a => a.square(), x);
        Assert.Equal(before, x.ToArray<double>());
        Assert.False(x.requires_grad);
    }
}
