namespace LowRankBias.Torch.Tests;

public class SmokeTests
{
    [Fact]
    public void AddAndMatmulGiveClosedFormValues()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        var b = tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);
        Assert.Equal(new float[] { 6, 8, 10, 12 }, (a + b).ToArray<float>());
        Assert.Equal(new float[] { 19, 22, 43, 50 }, a.mm(b).ToArray<float>());
        Assert.Equal(new float[] { 2, 3, 4, 5 }, (a + 1).ToArray<float>());
        Assert.Equal(10f, a.sum().item<float>());
        var parts = a.split(1, 0);
        Assert.Equal(2, parts.Length);
    }

    [Fact]
    public void BackwardGivesGradient()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new double[] { 1, 2, 3 }, requires_grad: true);
        var y = (x * x).sum();
        y.backward();
        Assert.Equal(new double[] { 2, 4, 6 }, x.grad!.ToArray<double>());
    }
}

public class IntegerScalarTests
{
    [Fact]
    public void IntegerScalarsKeepInt64LikePyTorch()
    {
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 1, 2, 3 });
        var shifted = ids + 1000;
        Assert.Equal(ScalarType.Int64, shifted.dtype);
        Assert.Equal(new long[] { 1001, 1002, 1003 }, shifted.ToArray<long>());
        Assert.Equal(new long[] { 2, 4, 6 }, (2 * ids).ToArray<long>());
        Assert.Equal(new long[] { -1, 0, 1 }, (ids - 2).ToArray<long>());
        Assert.Equal(ScalarType.Float32, (ids + 0.5).dtype);
    }
}
