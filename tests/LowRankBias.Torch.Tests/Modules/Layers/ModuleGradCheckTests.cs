using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Modules.Layers;

/// <summary>The parameter gradient checker must be able to fail.</summary>
public class ModuleGradCheckTests
{
    /// <summary>y = x·w² where autograd is told that one factor w is a constant, so it reports x·w instead of 2x·w.</summary>
    private sealed class HalfDetached : Module
    {
        public readonly Tensor w;
        public HalfDetached() => w = register_parameter("w", Randn(1, 3));
        public override Tensor forward(Tensor x)
        {
            using Tensor constant = w.detach();
            using Tensor wx = x * w;
            return wx * constant;
        }
    }

    [Fact]
    public void RejectsAParameterGradientThatMissesATerm()
    {
        using var scope = NewDisposeScope();
        using var module = new HalfDetached();
        Tensor x = Randn(2, 3);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ModuleGradCheck.Verify(module, () => module.call(x)));
    }

    [Fact]
    public void AcceptsACorrectGradientAndLeavesTheParametersUnchanged()
    {
        using var scope = NewDisposeScope();
        using var layer = new Linear(3, 2, dtype: ScalarType.Float64);
        double[] before = layer.weight.detach().ToArray<double>();
        Tensor x = Randn(3, 4, 3);
        ModuleGradCheck.Verify(layer, () => layer.call(x).tanh());
        Assert.Equal(before, layer.weight.detach().ToArray<double>());
        Assert.Null(layer.weight.grad);
    }
}
