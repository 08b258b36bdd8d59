using LowRankBias.Lora;
using MathNet.Numerics.LinearAlgebra;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

/// <summary>Every init leaves B at zero (except "random") and draws A from the named scheme; statistics are checked
/// within bounds derived from the sample size, orthogonality exactly.</summary>
public sealed class LoraInitTests
{
    private const int Rank = 16, In = 400, Out = 32;

    private static (double[] a, double[] b, Matrix<double> matrix) Draw(string init)
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(Linear64(In, Out, 1, bias: false), new LoraConfig { r = Rank, init_lora_weights = init });
        Tensor a = lora.lora_A["default"];
        return (ToDoubles(a), ToDoubles(lora.lora_B["default"]), M(a));
    }

    [Theory]
    [InlineData(LoraInit.Kaiming)]
    [InlineData(LoraInit.Gaussian)]
    [InlineData(LoraInit.Xavier)]
    [InlineData(LoraInit.Orthogonal)]
    [InlineData(LoraInit.SemiOrthogonal)]
    public void BStartsAtZero(string init) => Assert.All(Draw(init).b, v => Assert.Equal(0.0, v));

    [Theory]
    [InlineData(LoraInit.Kaiming)]
    [InlineData(LoraInit.Xavier)]
    public void UniformSchemesStayInTheirBoundAndHaveTheirVariance(string init)
    {
        (double[] a, _, _) = Draw(init);
        // PEFT's kaiming_uniform_(a = √5) is U(−1/√in, 1/√in); Xavier is U(−√(6/(r + in)), √(6/(r + in))).
        double bound = init == LoraInit.Kaiming ? 1 / Math.Sqrt(In) : Math.Sqrt(6.0 / (Rank + In));
        Assert.All(a, v => Assert.InRange(v, -bound, bound));
        double variance = a.Select(v => v * v).Average(), expected = bound * bound / 3;
        // Var(v²) = b⁴/5 − b⁴/9 for U(−b, b): six standard errors.
        double stdError = Math.Sqrt((Math.Pow(bound, 4) * (1.0 / 5 - 1.0 / 9)) / a.Length);
        Assert.InRange(variance, expected - 6 * stdError, expected + 6 * stdError);
    }

    [Fact]
    public void GaussianHasStandardDeviationOneOverR()
    {
        (double[] a, _, _) = Draw(LoraInit.Gaussian);
        double variance = a.Select(v => v * v).Average(), expected = 1.0 / (Rank * Rank);
        double stdError = expected * Math.Sqrt(2.0 / a.Length);      // Var(v²) = 2σ⁴ for N(0, σ²)
        Assert.InRange(variance, expected - 6 * stdError, expected + 6 * stdError);
    }

    [Theory]
    [InlineData(LoraInit.Orthogonal, 1.0)]
    [InlineData(LoraInit.SemiOrthogonal, (double)Rank / In)]             // every singular value √(d_out/d_in) = √(r/in)
    public void OrthogonalSchemesHaveOrthogonalRows(string init, double squaredSingularValue)
    {
        (_, _, Matrix<double> a) = Draw(init);
        Matrix<double> gram = a * a.Transpose();
        Matrix<double> expected = squaredSingularValue * Matrix<double>.Build.DenseIdentity(Rank);
        Assert.True((gram - expected).InfinityNorm() < 1e-12, $"A Aᵀ deviates from {squaredSingularValue}·I by {(gram - expected).InfinityNorm():E2}");
    }

    [Fact]
    public void RandomInitMakesBNonZeroSoTheAdapterActs()
    {
        (double[] a, double[] b, _) = Draw(LoraInit.Random);
        double bound = 1 / Math.Sqrt(Rank);                                  // kaiming on B [out, r]: fan_in = r
        Assert.All(b, v => Assert.InRange(v, -bound, bound));
        Assert.Contains(b, v => v != 0);
        Assert.All(a, v => Assert.InRange(v, -1 / Math.Sqrt(In), 1 / Math.Sqrt(In)));
    }
}
