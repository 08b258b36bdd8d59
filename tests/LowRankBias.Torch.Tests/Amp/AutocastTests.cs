using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests.Amp;

public class AutocastTests
{
    [Fact]
    public void LinearAndMatmulRunInBFloat16InsideTheScopeOnly()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var layer = new Linear(16, 4);
        Tensor x = randn([5, 16]);
        Tensor b = randn([16, 3]);

        Tensor inside, matmulInside;
        using (autocast("cpu", ScalarType.BFloat16))
        {
            inside = layer.call(x);
            matmulInside = x.matmul(b);
        }
        Tensor outside = layer.call(x);

        Assert.Equal(ScalarType.BFloat16, inside.dtype);
        Assert.Equal(ScalarType.BFloat16, matmulInside.dtype);
        Assert.Equal(ScalarType.Float32, outside.dtype);
        Assert.Equal(ScalarType.Float32, layer.weight.dtype);
        // Reference: the operands rounded to bfloat16, multiplied and summed in float64. The kernel rounds to bfloat16
        // (8 significant bits) along the way, so allow one bfloat16 step, 2⁻⁷, of the sum of the products' magnitudes.
        double[] xs = Round(x), bs = Round(b);
        double[,] expected = HostMatmul(xs, bs, 5, 16, 3);
        double[,] magnitude = HostMatmul(xs.Select(Math.Abs).ToArray(), bs.Select(Math.Abs).ToArray(), 5, 16, 3);
        double[] got = matmulInside.@double().ToArray<double>();
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(expected[i, j], got[i * 3 + j], magnitude[i, j] / 128);
    }

    [Fact]
    public void GradientsOfFloat32ParametersAreFloat32AndMatchTheFloat64Gradient()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        const int n = 32, din = 24, dout = 6;
        Tensor w = (randn([dout, din]) * 0.3).requires_grad_();
        Tensor x = randn([n, din]);
        Tensor t = randn([n, dout]);

        Tensor activation;
        using (autocast(DeviceType.CPU, ScalarType.BFloat16))
        {
            activation = linear(x, w);
            mse_loss(activation, t).backward();
        }

        Assert.Equal(ScalarType.BFloat16, activation.dtype);
        Tensor grad = w.grad!;
        Assert.Equal(ScalarType.Float32, grad.dtype);
        // Closed form in float64: d/dW mean((xWᵀ − t)²) = 2/(n·dout) · (xWᵀ − t)ᵀ x.
        Tensor x64 = x.@double(), w64 = w.detach().@double();
        Tensor expected = (x64.mm(w64.t()) - t.@double()).t().mm(x64) * (2.0 / (n * dout));
        double relative = ((grad.@double() - expected).norm() / expected.norm()).item<double>();
        Assert.InRange(relative, 0, 2e-2);
        Assert.True(relative > 0, "bfloat16 activations should perturb the gradient");
    }

    [Fact]
    public void NestedAndDisabledScopesRestoreTheStateOfTheirThreadOnly()
    {
        using var scope = NewDisposeScope();
        Tensor a = randn([4, 4]);
        Assert.False(is_autocast_enabled(DeviceType.CPU));
        ScalarType initialDtype = get_autocast_dtype(DeviceType.CPU);

        using (autocast(DeviceType.CPU, ScalarType.BFloat16))
        {
            Assert.True(is_autocast_enabled(DeviceType.CPU));
            Assert.False(is_autocast_enabled(DeviceType.CUDA));
            bool otherThreadSees = true;
            var thread = new Thread(() => otherThreadSees = is_autocast_enabled(DeviceType.CPU));
            thread.Start();
            thread.Join();
            Assert.False(otherThreadSees);

            using (autocast(DeviceType.CPU, enabled: false))
            {
                Assert.False(is_autocast_enabled(DeviceType.CPU));
                Assert.Equal(ScalarType.Float32, a.mm(a).dtype);
            }
            Assert.True(is_autocast_enabled(DeviceType.CPU));
            Assert.Equal(ScalarType.BFloat16, a.mm(a).dtype);
        }
        Assert.False(is_autocast_enabled(DeviceType.CPU));
        Assert.Equal(initialDtype, get_autocast_dtype(DeviceType.CPU));
        Assert.Equal(ScalarType.Float32, a.mm(a).dtype);
    }

    [Fact]
    public void BadArgumentsAndCrossThreadDisposalAreRejected()
    {
        Assert.Throws<ArgumentException>(() => autocast(DeviceType.CPU, ScalarType.Float64));
        Assert.Throws<ArgumentException>(() => autocast("cuda:0", ScalarType.BFloat16));
        Assert.Throws<ArgumentException>(() => autocast("tpu"));
        Assert.Throws<TorchException>(() => is_autocast_enabled((DeviceType)7));

        AutocastScope region = autocast(DeviceType.CPU, ScalarType.BFloat16);
        Exception? error = null;
        var thread = new Thread(() => error = Record.Exception(region.Dispose));
        thread.Start();
        thread.Join();
        Assert.IsType<InvalidOperationException>(error);
        region.Dispose();
        Assert.False(is_autocast_enabled(DeviceType.CPU));
    }

    private static double[] Round(Tensor t) => t.bfloat16().@double().ToArray<double>();

    private static double[,] HostMatmul(double[] a, double[] b, long rows, int inner, int cols)
    {
        var result = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                for (int k = 0; k < inner; k++)
                    result[i, j] += a[i * inner + k] * b[k * cols + j];
        return result;
    }
}
