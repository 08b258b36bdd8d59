using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests.Modules.Layers;

/// <summary>torch.nn.utils.fuse_conv_bn_weights against the closed form w' = w·γ/√(var + eps), b' = (b − mean)·γ/√(var + eps) + β
/// evaluated by hand in float64, and fuse_conv_bn_eval against running the convolution and then the BatchNorm (float64).</summary>
public sealed class ConvBnFusionTests
{
    private const long Out = 3, In = 2;
    private static readonly double[] Gamma = [1.5, -0.5, 2.0], Beta = [0.1, 0.2, -0.3], Mean = [0.5, -1.0, 2.0], Variance = [4.0, 0.25, 1e-4];
    private const double Eps = 1e-3;

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void WeightsMatchTheClosedFormInFloat64(bool convBias, bool affine)
    {
        using var scope = NewDisposeScope();
        Tensor w = TestData.Randn(1, Out, In, 2, 3).@float(), b = TestData.Randn(2, Out).@float();
        (Tensor fw, Tensor fb) = nn.utils.fuse_conv_bn_weights(w, convBias ? b : null, tensor(Mean).@float(), tensor(Variance).@float(), Eps,
            affine ? tensor(Gamma).@float() : null, affine ? tensor(Beta).@float() : null);
        Assert.Equal(ScalarType.Float32, fw.dtype);
        Assert.Equal(w.shape, fw.shape);

        double[] weights = w.@double().ToArray<double>(), biases = b.@double().ToArray<double>();
        var expectedW = new double[weights.Length];
        var expectedB = new double[Out];
        for (int o = 0; o < Out; o++)
        {
            double gamma = affine ? Gamma[o] : 1, beta = affine ? Beta[o] : 0, s = gamma / Math.Sqrt(Variance[o] + Eps);
            for (int k = 0; k < In * 2 * 3; k++) expectedW[o * In * 6 + k] = weights[o * In * 6 + k] * s;
            expectedB[o] = ((convBias ? biases[o] : 0) - Mean[o]) * s + beta;
        }
        // float32 results: one rounding of a value up to ~130 in magnitude (scale 2/√0.0011 ≈ 60).
        TestData.AssertClose(expectedW, fw, 1e-5);
        TestData.AssertClose(expectedB, fb, 1e-5);
    }

    [Fact]
    public void FusedConvolutionComputesConvolutionThenBatchNorm()
    {
        using var scope = NewDisposeScope();
        using var conv = new Conv2d(In, Out, [3, 3], stride: [2, 1], padding: [1, 0], bias: true, dtype: ScalarType.Float64);
        using var bn = new BatchNorm2d(Out, eps: Eps, dtype: ScalarType.Float64);
        using (no_grad())
        {
            bn.weight!.copy_(tensor(Gamma));
            bn.bias!.copy_(tensor(Beta));
            bn.running_mean!.copy_(tensor(Mean));
            bn.running_var!.copy_(tensor(Variance));
        }
        conv.eval();
        bn.eval();
        using Conv2d fused = nn.utils.fuse_conv_bn_eval(conv, bn);
        Assert.Equal(conv.stride, fused.stride);
        Assert.Equal(conv.padding, fused.padding);
        Tensor x = TestData.Randn(3, 2, In, 7, 6);
        Tensor expected = F.batch_norm(F.conv2d(x, conv.weight, conv.bias, conv.stride, conv.padding),
            tensor(Mean), tensor(Variance), tensor(Gamma), tensor(Beta), training: false, eps: Eps);
        TestData.AssertClose(expected.ToArray<double>(), fused.call(x), 1e-12);

        using var frozen = new FrozenBatchNorm2d(bn);
        using Conv2d fromFrozen = nn.utils.fuse_conv_bn_eval(conv, frozen);
        TestData.AssertClose(expected.ToArray<double>(), fromFrozen.call(x), 1e-12);
    }

    [Fact]
    public void RefusesTrainingModeMissingStatisticsAndMismatchedChannels()
    {
        using var conv = new Conv2d(In, Out, 1);
        using var bn = new BatchNorm2d(Out);
        bn.eval();
        var training = Assert.Throws<InvalidOperationException>(() => nn.utils.fuse_conv_bn_eval(conv, bn));
        Assert.Contains("conv is in training mode", training.Message);
        conv.eval();
        bn.train();
        Assert.Contains("bn is in training mode", Assert.Throws<InvalidOperationException>(() => nn.utils.fuse_conv_bn_eval(conv, bn)).Message);

        using var wide = new BatchNorm2d(Out + 1);
        wide.eval();
        var mismatch = Assert.Throws<ArgumentException>(() => nn.utils.fuse_conv_bn_eval(conv, wide));
        Assert.Contains("bn has 4 channels but conv has 3 output channels", mismatch.Message);

        using var batchOnly = new BatchNorm2d(Out, track_running_stats: false);
        batchOnly.eval();
        Assert.Contains("track_running_stats = false", Assert.Throws<ArgumentException>(() => nn.utils.fuse_conv_bn_eval(conv, batchOnly)).Message);

        using var scope = NewDisposeScope();
        var shape = Assert.Throws<ArgumentException>(() => nn.utils.fuse_conv_bn_weights(conv.weight, null, zeros([Out + 1]), ones([Out]), 1e-5, null, null));
        Assert.Equal("bn_rm", shape.ParamName);
    }
}
