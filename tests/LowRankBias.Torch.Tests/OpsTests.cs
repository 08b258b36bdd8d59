using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests;

/// <summary>torch.* joins, selection and matrix products against MathNet and element-by-element definitions.</summary>
public class OpsTests
{
    private const double Tol = 1e-12;

    [Fact]
    public void CatJoinsAlongAnExistingDimension()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = tensor(new double[] { 1, 2, 3, 4 }, [2, 2]), b = tensor(new double[] { 5, 6 }, [2, 1]);
        Tensor c = cat([a, b], 1);
        Assert.Equal([2L, 3], c.shape);
        Assert.Equal([1.0, 2, 5, 3, 4, 6], c.ToArray<double>());
        Assert.Equal([1.0, 2, 3, 4, 1, 2, 3, 4], cat([a, a]).ToArray<double>());
    }

    [Fact]
    public void StackAddsADimension()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = tensor(new double[] { 1, 2 }), b = tensor(new double[] { 3, 4 });
        Assert.Equal([2L, 2], stack([a, b]).shape);
        Assert.Equal([1.0, 3, 2, 4], stack([a, b], 1).ToArray<double>());
    }

    [Fact]
    public void WhereSelectsElementwiseWithBroadcasting()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor condition = tensor(new[] { true, false, true });
        Tensor x = tensor(new double[] { 1, 2, 3, 4, 5, 6 }, [2, 3]), y = tensor(new double[] { -1, -2, -3 });
        Assert.Equal([1.0, -2, 3, 4, -2, 6], where(condition, x, y).ToArray<double>());
        Assert.Equal([1.0, 0, 3, 4, 0, 6], where(condition, x, 0.0).ToArray<double>());
        Assert.Equal([9.0, -2, 9], where(condition, 9.0, y).ToArray<double>());
    }

    [Fact]
    public void MatrixProductsMatchMathNet()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = Randn(1, 3, 4), b = Randn(2, 4, 2), c = Randn(3, 3, 2);
        double[] ab = (ToMatrix(a) * ToMatrix(b)).ToRowMajorArray();
        AssertClose(ab, mm(a, b), Tol);
        AssertClose(ab, matmul(a, b), Tol);
        AssertClose(ab, einsum("ij,jk->ik", a, b), Tol);
        double[] cs = c.ToArray<double>();
        AssertClose(ab.Select((v, i) => 0.5 * cs[i] + 2 * v).ToArray(), addmm(c, a, b, beta: 0.5, alpha: 2), Tol);
        // A bias row broadcasts over addmm's output rows.
        Tensor bias = Randn(4, 2);
        double[] bs = bias.ToArray<double>();
        AssertClose(ab.Select((v, i) => bs[i % 2] + v).ToArray(), addmm(bias, a, b), Tol);
    }

    [Fact]
    public void BatchedProductsMultiplyEachBatchEntry()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = Randn(5, 2, 3, 4), b = Randn(6, 2, 4, 2), c = Randn(7, 2, 3, 2);
        double[] expected = Enumerable.Range(0, 2).SelectMany(i => (ToMatrix(a[i]) * ToMatrix(b[i])).ToRowMajorArray()).ToArray();
        AssertClose(expected, bmm(a, b), Tol);
        AssertClose(expected, a.matmul(b), Tol);
        AssertClose(expected, einsum("bij,bjk->bik", a, b), Tol);
        double[] cs = c.ToArray<double>();
        AssertClose(expected.Select((v, i) => -cs[i] + 3 * v).ToArray(), baddbmm(c, a, b, beta: -1, alpha: 3), Tol);
        // matmul broadcasts a single matrix over the batch.
        double[] shared = Enumerable.Range(0, 2).SelectMany(i => (ToMatrix(a[i]) * ToMatrix(b[0])).ToRowMajorArray()).ToArray();
        AssertClose(shared, matmul(a, b[0]), Tol);
    }

    [Fact]
    public void OuterAndEinsumReductions()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor u = Randn(8, 3), v = Randn(9, 2), m = Randn(10, 3, 3);
        double[] us = u.ToArray<double>(), vs = v.ToArray<double>();
        AssertClose(us.SelectMany(x => vs.Select(y => x * y)).ToArray(), outer(u, v), Tol);
        Assert.Equal(ToMatrix(m).Trace(), einsum("ii", m).item<double>(), 12);
        Assert.Equal(us.Sum(x => x * x), einsum("i,i->", u, u).item<double>(), 12);
        Assert.Equal(us.Sum(x => x * x), u.dot(u).item<double>(), 12);
    }

    [Fact]
    public void AllcloseUsesAbsoluteAndRelativeTolerances()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor a = tensor(new double[] { 1, 100 });
        Assert.True(allclose(a, tensor(new double[] { 1 + 5e-9, 100 + 5e-4 })));
        Assert.False(allclose(a, tensor(new double[] { 1 + 5e-5, 100 })));
        Assert.True(allclose(a, tensor(new double[] { 1.01, 100 }), rtol: 0, atol: 0.02));
        Tensor nan = tensor(new[] { double.NaN });
        Assert.False(allclose(nan, nan));
        Assert.True(allclose(nan, nan, equal_nan: true));
    }

    [Fact]
    public void FreeFunctionsEqualTheirMethodForms()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = Uniform(11, 0.5, 2, 2, 3);
        double[] xs = x.ToArray<double>();
        AssertClose(xs.Select(Math.Exp).ToArray(), exp(x), Tol);
        AssertClose(xs.Select(v => Math.Log(v)).ToArray(), log(x), Tol);
        AssertClose(xs.Select(Math.Sqrt).ToArray(), sqrt(x), Tol);
        AssertClose(xs.Select(v => Math.Pow(v, 1.5)).ToArray(), pow(x, 1.5), Tol);
        AssertClose(xs.Select(v => Math.Clamp(v, 0.8, 1.2)).ToArray(), clamp(x, 0.8, 1.2), 0);
        Assert.Equal(xs.Sum(), sum(x).item<double>(), 12);
        Assert.Equal(xs.Average(), mean(x).item<double>(), 12);
        Assert.Equal(xs.Max(), max(x).item<double>());
        Assert.Equal(xs.Min(), min(x).item<double>());
        Assert.Equal(Array.IndexOf(xs, xs.Max()), argmax(x).item<long>());
        Assert.Equal([3L, 2], transpose(x, 0, 1).shape);
        Assert.Equal([6L], flatten(x).shape);
    }
}
