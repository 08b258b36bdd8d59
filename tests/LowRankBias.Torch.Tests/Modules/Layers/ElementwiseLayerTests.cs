using LowRankBias.Torch.Modules;
using MathNet.Numerics;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Modules.Layers;

/// <summary>Activations, Dropout, Identity and Flatten against their closed forms.</summary>
public class ElementwiseLayerTests
{
    public static TheoryData<string> ActivationNames => ["relu", "gelu", "gelu_tanh", "silu", "tanh", "sigmoid"];

    private static (Module module, Func<double, double> formula) Activation(string name) => name switch
    {
        "relu" => (new ReLU(), x => Math.Max(x, 0)),
        "gelu" => (new GELU(), x => x * 0.5 * (1 + SpecialFunctions.Erf(x / Math.Sqrt(2)))),
        "gelu_tanh" => (new GELU("tanh"), x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))),
        "silu" => (new SiLU(), x => x / (1 + Math.Exp(-x))),
        "tanh" => (new Tanh(), Math.Tanh),
        "sigmoid" => (new Sigmoid(), x => 1 / (1 + Math.Exp(-x))),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void ActivationsMatchTheirFormulas(string name)
    {
        using var scope = NewDisposeScope();
        (Module module, Func<double, double> formula) = Activation(name);
        using (module)
        {
            Tensor x = Randn(1, 3, 5) * 3.0;
            AssertClose(x.ToArray<double>().Select(formula).ToArray(), module.call(x), 1e-14);
        }
    }

    [Fact]
    public void InPlaceReluOverwritesItsInputAndBackpropagatesLikeTheOutOfPlaceOne()
    {
        using var scope = NewDisposeScope();
        using var relu = new ReLU(inplace: true);
        Assert.Equal("ReLU(inplace=True)", relu.ToString());
        Tensor w = (Randn(1, 3, 5) * 3.0).requires_grad_();
        double[] expected = w.ToArray<double>().Select(x => Math.Max(3 * x, 0)).ToArray();
        Tensor input = w * 3.0, output = relu.call(input);
        AssertClose(expected, output, 1e-14);
        AssertClose(expected, input, 1e-14);   // the same storage, overwritten
        output.sum().backward();
        AssertClose(w.ToArray<double>().Select(x => x > 0 ? 3.0 : 0.0).ToArray(), w.grad!, 0);
    }

    [Fact]
    public void GeluRejectsAnUnknownApproximation() => Assert.Throws<ArgumentException>(() => new GELU("fast"));

    [Fact]
    public void DropoutZeroesAFractionPAndRescalesTheRestInTrainingOnly()
    {
        using var scope = NewDisposeScope();
        using var dropout = new Dropout(0.3);
        Tensor x = ones([200_000], ScalarType.Float64);
        double[] y = dropout.call(x).ToArray<double>();
        Assert.All(y, v => Assert.True(v == 0 || Math.Abs(v - 1 / 0.7) < 1e-12, $"value {v}"));
        // The number of zeros is Binomial(n, 0.3): within six standard deviations.
        double zeros = y.Count(v => v == 0), sd = Math.Sqrt(y.Length * 0.3 * 0.7);
        Assert.InRange(zeros, y.Length * 0.3 - 6 * sd, y.Length * 0.3 + 6 * sd);

        dropout.eval();
        Tensor z = Randn(2, 10);
        Assert.Equal(z.ToArray<double>(), dropout.call(z).ToArray<double>());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1.5));
    }

    [Fact]
    public void IdentityReturnsTheInputAsAHandleTheCallerMayDispose()
    {
        using var scope = NewDisposeScope();
        using var identity = new Identity();
        Tensor x = Randn(3, 2, 2).requires_grad_();
        Tensor y = identity.call(x);
        Assert.NotSame(x, y);
        Assert.Equal(x.ToArray<double>(), y.ToArray<double>());
        (y * 3.0).sum().backward();
        Assert.Equal(new double[] { 3, 3, 3, 3 }, x.grad!.ToArray<double>());
        y.Dispose();
        Assert.False(x.IsDisposed);
    }

    [Fact]
    public void FlattenJoinsTheRequestedDimensions()
    {
        using var scope = NewDisposeScope();
        using var all = new Flatten();
        using var middle = new Flatten(1, 2);
        Tensor x = Randn(4, 2, 3, 4, 5);
        Assert.Equal(new long[] { 2, 60 }, all.call(x).shape);
        Assert.Equal(new long[] { 2, 12, 5 }, middle.call(x).shape);
        Assert.Equal(x.ToArray<double>(), all.call(x).ToArray<double>());
    }
}
