namespace LowRankBias.Torch.Tests;

/// <summary>A <see cref="Generator"/> draws a stream of its own: its seed alone decides the values.</summary>
[Collection(SerialCollection.Name)] // it reseeds the global generator, which other tests may be relying on
public class GeneratorTests
{
    private static double[] Draws(ulong seed, Func<Tensor, Generator, Tensor> draw)
    {
        using var generator = new Generator(seed);
        using Tensor t = empty([4, 5], ScalarType.Float64);
        draw(t, generator);
        return t.ToArray<double>();
    }

    [Fact]
    public void TheSameSeedGivesTheSameDrawsWhateverTheGlobalGeneratorDoes()
    {
        double[] first = Draws(7, (t, g) => t.uniform_(-1, 1, g));
        double[] second = Draws(7, (t, g) =>
        {
            manual_seed(123);                       // reseeding and drawing from the global generator in between
            using Tensor noise = randn([100]);
            return t.uniform_(-1, 1, g);
        });
        Assert.Equal(first, second);
        Assert.All(first, v => Assert.InRange(v, -1, 1));
        Assert.NotEqual(first, Draws(8, (t, g) => t.uniform_(-1, 1, g)));
    }

    [Fact]
    public void ConsecutiveDrawsContinueTheStreamAndManualSeedRestartsIt()
    {
        using var generator = new Generator(3);
        using Tensor a = empty([6], ScalarType.Float64).normal_(0, 1, generator);
        using Tensor b = empty([6], ScalarType.Float64).normal_(0, 1, generator);
        Assert.NotEqual(a.ToArray<double>(), b.ToArray<double>());
        generator.manual_seed(3);
        using Tensor again = empty([6], ScalarType.Float64).normal_(0, 1, generator);
        Assert.Equal(a.ToArray<double>(), again.ToArray<double>());
        Assert.Equal(3UL, generator.initial_seed());
    }

    [Fact]
    public void ThreadsWithTheirOwnGeneratorsDrawWhatTheyWouldDrawAlone()
    {
        const int threads = 4;
        double[][] alone = [.. Enumerable.Range(0, threads).Select(i => Draws((ulong)i, (t, g) => nn.init.orthogonal_(t, generator: g)))];
        var together = new double[threads][];
        Parallel.For(0, threads + 1, new ParallelOptions { MaxDegreeOfParallelism = threads + 1 }, i =>
        {
            if (i == threads)
            {
                for (int k = 0; k < 200; k++) { manual_seed((ulong)k); using Tensor _ = rand([64]); }
                return;
            }
            for (int repeat = 0; repeat < 50; repeat++) together[i] = Draws((ulong)i, (t, g) => nn.init.orthogonal_(t, generator: g));
        });
        for (int i = 0; i < threads; i++) Assert.Equal(alone[i], together[i]);
    }

    [Fact]
    public void InitialisersDrawTheDistributionTheyPromise()
    {
        // kaiming_uniform_ with a = √5 on [r, fan_in] is U(±1/√fan_in); the sample moments of 20 000 draws are close.
        using var generator = new Generator(11);
        using Tensor t = empty([200, 100], ScalarType.Float64);
        nn.init.kaiming_uniform_(t, a: Math.Sqrt(5), generator: generator);
        double[] v = t.ToArray<double>();
        double bound = 1 / Math.Sqrt(100);
        Assert.All(v, x => Assert.InRange(x, -bound, bound));
        Assert.InRange(v.Average(), -0.01 * bound, 0.01 * bound);
        Assert.InRange(v.Select(x => x * x).Average(), 0.97 * bound * bound / 3, 1.03 * bound * bound / 3);
    }

    [Fact]
    public void AnOpThatTakesNoGeneratorRefusesOneByName()
    {
        using var generator = new Generator(1);
        using Tensor t = zeros([3]);
        var e = Assert.Throws<ArgumentException>(() => new Op("aten::add_", "Scalar").Call(t, generator));
        Assert.Contains("Generator", e.Message);
    }

    [Fact]
    public void ADisposedGeneratorIsRefused()
    {
        var generator = new Generator(1);
        generator.Dispose();
        using Tensor t = zeros([3]);
        Assert.Throws<ObjectDisposedException>(() => t.uniform_(0, 1, generator));
    }
}
