using LowRankBias.Torch.Modules;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Modules.Layers;

/// <summary>MultiheadSelfAttention against an explicit float64 computation with MathNet matrices.</summary>
public class AttentionLayerTests
{
    private const int N = 2, L = 4, E = 6, Heads = 2;

    private static MultiheadSelfAttention NewAttention(bool causal = false) =>
        new(E, Heads, is_causal: causal, dtype: ScalarType.Float64);

    private static Matrix<double> Project(Module layer, Matrix<double> x)
    {
        var linear = (Linear)layer;
        Matrix<double> y = x * ToMatrix(linear.weight.detach()).Transpose();
        double[] b = linear.bias!.detach().ToArray<double>();
        return Matrix<double>.Build.Dense(y.RowCount, y.ColumnCount, (i, j) => y[i, j] + b[j]);
    }

    /// <summary>The layer's output for sample-major input x, written out: per sample and head,
    /// softmax(Q_h K_hᵀ/√d + bias, restricted to allowed(i, j)) V_h, heads concatenated, then the output projection.</summary>
    private static double[] Expected(MultiheadSelfAttention attn, Tensor x, Func<int, int, int, bool> allowed, Func<int, int, int, double> bias)
    {
        int d = E / Heads;
        var result = new List<double>();
        for (int n = 0; n < N; n++)
        {
            Matrix<double> xs = ToMatrix(x.select(0, n));
            Matrix<double> q = Project(attn.q, xs), k = Project(attn.k, xs), v = Project(attn.v, xs);
            Matrix<double> concat = Matrix<double>.Build.Dense(L, E);
            for (int h = 0; h < Heads; h++)
            {
                Matrix<double> scores = q.SubMatrix(0, L, h * d, d) * k.SubMatrix(0, L, h * d, d).Transpose() / Math.Sqrt(d);
                Matrix<double> weights = Matrix<double>.Build.Dense(L, L);
                for (int i = 0; i < L; i++)
                {
                    double[] row = Enumerable.Range(0, L).Select(j => allowed(n, i, j) ? scores[i, j] + bias(n, i, j) : double.NegativeInfinity).ToArray();
                    double max = row.Max(), total = row.Sum(s => Math.Exp(s - max));
                    for (int j = 0; j < L; j++) weights[i, j] = Math.Exp(row[j] - max) / total;
                }
                concat.SetSubMatrix(0, h * d, weights * v.SubMatrix(0, L, h * d, d));
            }
            result.AddRange(Project(attn.o, concat).ToRowMajorArray());
        }
        return result.ToArray();
    }

    private static bool All(int n, int i, int j) => true;
    private static double None(int n, int i, int j) => 0;

    [Fact]
    public void UnmaskedOutputEqualsTheExplicitComputation()
    {
        using var scope = NewDisposeScope();
        using var attn = NewAttention();
        Tensor x = Randn(1, N, L, E);
        Tensor y = attn.call(x);
        Assert.Equal(new long[] { N, L, E }, y.shape);
        AssertClose(Expected(attn, x, All, None), y, 1e-12);
    }

    [Fact]
    public void BoolAndFloatMasksAreApplied()
    {
        using var scope = NewDisposeScope();
        using var attn = NewAttention();
        Tensor x = Randn(2, N, L, E);
        // Per-sample key mask [N, 1, 1, L]: sample 0 hides key 3, sample 1 hides keys 0 and 2.
        bool[] keep = [true, true, true, false, false, true, false, true];
        Tensor boolMask = tensor(keep, [N, 1, 1, L]);
        AssertClose(Expected(attn, x, (n, i, j) => keep[n * L + j], None), attn.forward(x, boolMask), 1e-12);

        Tensor additive = Randn(3, L, L);
        double[] a = additive.ToArray<double>();
        AssertClose(Expected(attn, x, All, (n, i, j) => a[i * L + j]), attn.forward(x, additive), 1e-12);
    }

    [Fact]
    public void CausalAttentionSeesOnlyThePastAndCombinesWithAMask()
    {
        using var scope = NewDisposeScope();
        using var attn = NewAttention(causal: true);
        Tensor x = Randn(4, N, L, E);
        AssertClose(Expected(attn, x, (n, i, j) => j <= i, None), attn.call(x), 1e-12);

        bool[] keep = [true, false, true, true];
        AssertClose(Expected(attn, x, (n, i, j) => j <= i && keep[j], None), attn.forward(x, tensor(keep)), 1e-12);
        Tensor additive = Randn(5, L, L);
        double[] a = additive.ToArray<double>();
        AssertClose(Expected(attn, x, (n, i, j) => j <= i, (n, i, j) => a[i * L + j]), attn.forward(x, additive), 1e-12);
    }

    [Fact]
    public void CausalOutputAtTDoesNotDependOnLaterPositions()
    {
        using var scope = NewDisposeScope();
        using var attn = NewAttention(causal: true);
        Tensor x = Randn(6, 1, L, E);
        double[] before = attn.call(x).ToArray<double>();
        for (int t = 0; t < L - 1; t++)
        {
            Tensor changed = x.clone();
            using (no_grad()) changed.narrow(1, t + 1, L - t - 1).add_(Randn(7 + t, 1, L - t - 1, E));
            double[] after = attn.call(changed).ToArray<double>();
            Assert.Equal(before[..((t + 1) * E)], after[..((t + 1) * E)]);
            Assert.NotEqual(before[((t + 1) * E)..], after[((t + 1) * E)..]);
        }
    }

    [Fact]
    public void GradientsWithRespectToInputAndEveryProjectionMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        using var attn = NewAttention(causal: true);
        Tensor x = Randn(8, N, 3, E);
        GradCheck.Verify(input => attn.call(input), x);
        ModuleGradCheck.Verify(attn, () => attn.call(x));

        // A key bias adds q·b to every score of a query's row, which the softmax ignores: its gradient is zero.
        attn.call(x).sum().backward();
        Assert.True(((Linear)attn.k).bias!.grad!.abs().max().item<double>() < 1e-12);
        Assert.True(((Linear)attn.q).bias!.grad!.abs().max().item<double>() > 1e-3);
    }

    [Fact]
    public void AttentionDropoutActsInTrainingOnly()
    {
        using var scope = NewDisposeScope();
        using var attn = new MultiheadSelfAttention(E, Heads, dropout: 0.5, dtype: ScalarType.Float64);
        Tensor x = Randn(9, N, L, E);
        double[] expected = Expected(attn, x, All, None);
        double[] dropped = attn.call(x).ToArray<double>();
        Assert.True(expected.Zip(dropped).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "dropout must change the training output");
        attn.eval();
        AssertClose(expected, attn.call(x), 1e-12);
    }

    [Fact]
    public void ProjectionsAreReplaceableChildrenNamedQKVO()
    {
        using var scope = NewDisposeScope();
        using var attn = NewAttention();
        Assert.Equal(new[] { "q", "k", "v", "o" }, attn.named_children().Select(c => c.name));
        Tensor x = Randn(10, N, L, E);
        double[] before = attn.call(x).ToArray<double>();
        Module original = attn.v;
        using var doubled = new Sequential(original, new Dropout(0)); // same function, different module
        attn.set_submodule("v", doubled);
        Assert.Equal(before, attn.call(x).ToArray<double>());
        using var zero = new Linear(E, E, dtype: ScalarType.Float64);
        attn.set_submodule("v", zero);
        Assert.NotEqual(before, attn.call(x).ToArray<double>());
        attn.set_submodule("v", original);
    }

    [Fact]
    public void BadShapesAndHeadCountsAreClearErrors()
    {
        using var scope = NewDisposeScope();
        var heads = Assert.Throws<ArgumentException>(() => new MultiheadSelfAttention(10, 4));
        Assert.Contains("num_heads = 4 must divide embed_dim = 10", heads.Message);
        using var attn = NewAttention();
        Assert.Contains("expects 6 features, got 5", Assert.Throws<ArgumentException>(() => attn.call(zeros([1, 2, 5]))).Message);
        Assert.Throws<ArgumentException>(() => attn.call(zeros([2, 6])));
    }
}
