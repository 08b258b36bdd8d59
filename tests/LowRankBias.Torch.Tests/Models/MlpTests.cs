using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Models;

public class MlpTests
{
    [Fact]
    public void ADeepLinearNetworkIsTheProductOfItsWeights()
    {
        using var scope = NewDisposeScope();
        using var net = new MLP(MLP.Config.DeepLinear(depth: 3, width: 4), dtype: ScalarType.Float64);
        Assert.IsType<Identity>(net.act);
        Matrix<double> product = Enumerable.Range(0, 3)
            .Select(i => ToMatrix(net.get_parameter($"layers.{i}.weight").detach()))
            .Aggregate((acc, w) => w * acc);  // W₃W₂W₁
        Tensor x = Randn(1, 5, 4);
        AssertClose((ToMatrix(x) * product.Transpose()).ToRowMajorArray(), net.call(x), 1e-13);
    }

    [Fact]
    public void AReluNetworkAppliesTheActivationBetweenLayersOnly()
    {
        using var scope = NewDisposeScope();
        using var net = new MLP(new MLP.Config { widths = [3, 6, 2] }, dtype: ScalarType.Float64);
        Tensor x = Randn(2, 4, 3);
        Matrix<double> w1 = ToMatrix(net.get_parameter("layers.0.weight").detach()), w2 = ToMatrix(net.get_parameter("layers.1.weight").detach());
        double[] b1 = net.get_parameter("layers.0.bias").detach().ToArray<double>(), b2 = net.get_parameter("layers.1.bias").detach().ToArray<double>();
        Matrix<double> hidden = ToMatrix(x) * w1.Transpose();
        hidden = Matrix<double>.Build.Dense(4, 6, (i, j) => Math.Max(0, hidden[i, j] + b1[j]));
        Matrix<double> output = hidden * w2.Transpose();
        AssertClose(Matrix<double>.Build.Dense(4, 2, (i, j) => output[i, j] + b2[j]).ToRowMajorArray(), net.call(x), 1e-13);
    }

    [Fact]
    public void ThesisPresetIsSquare64WideReluLayers()
    {
        using var scope = NewDisposeScope();
        using var net = new MLP(MLP.Config.ReLUNetwork(depth: 4));
        Assert.Equal(4, net.layers.Count);
        Assert.All(net.layers, l => Assert.Equal(new long[] { 64, 64 }, ((Linear)l).weight.shape));
        Assert.IsType<ReLU>(net.act);
        Assert.Throws<ArgumentException>(() => new MLP(new MLP.Config { widths = [3] }));
        Assert.Throws<ArgumentException>(() => new MLP(new MLP.Config { activation = "swish" }));
    }
}
