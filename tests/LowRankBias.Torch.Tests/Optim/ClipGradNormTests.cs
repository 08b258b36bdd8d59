using static LowRankBias.Torch.torch.nn;

namespace LowRankBias.Torch.Tests.Optim;

public class ClipGradNormTests
{
    private static (Tensor a, Tensor b, Tensor unused) ParametersWithGrads()
    {
        Tensor a = zeros([2], ScalarType.Float64, requires_grad: true);
        Tensor b = zeros([3], ScalarType.Float64, requires_grad: true);
        a.grad = tensor(new double[] { 3, -4 });
        b.grad = tensor(new double[] { 0, 12, 0 });
        return (a, b, zeros([1], ScalarType.Float64, requires_grad: true));
    }

    [Fact]
    public void ScalesAllGradientsByOneGlobalFactor()
    {
        using var scope = NewDisposeScope();
        var (a, b, unused) = ParametersWithGrads();
        double total = utils.clip_grad_norm_([a, b, unused], max_norm: 6.5);
        Assert.Equal(13, total, 1e-12);
        double factor = 6.5 / (13 + 1e-6);
        Quadratic.AssertClose([3 * factor, -4 * factor], a.grad!);
        Quadratic.AssertClose([0, 12 * factor, 0], b.grad!);
        Assert.Null(unused.grad);
    }

    [Fact]
    public void LeavesGradientsBelowTheLimitAlone()
    {
        using var scope = NewDisposeScope();
        var (a, b, _) = ParametersWithGrads();
        Assert.Equal(13, utils.clip_grad_norm_([a, b], max_norm: 20), 1e-12);
        Quadratic.AssertClose([3, -4], a.grad!);
    }

    [Fact]
    public void OtherNormsAndNonFiniteGradients()
    {
        using var scope = NewDisposeScope();
        var (a, b, _) = ParametersWithGrads();
        Assert.Equal(12, utils.clip_grad_norm_([a, b], 100, norm_type: double.PositiveInfinity), 1e-12);
        Assert.Equal(19, utils.clip_grad_norm_([a, b], 100, norm_type: 1), 1e-12);
        b.grad = tensor(new double[] { double.NaN, 0, 0 });
        Assert.Throws<InvalidOperationException>(() => utils.clip_grad_norm_([a, b], 1, error_if_nonfinite: true));
        Assert.Equal(0, utils.clip_grad_norm_(Array.Empty<Tensor>(), 1));
    }
}
