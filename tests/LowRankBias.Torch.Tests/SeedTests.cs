using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests;

/// <summary>manual_seed makes CPU runs (random init, random data, dropout, training) bit-identical.</summary>
[Collection(SerialCollection.Name)]
public class SeedTests
{
    /// <summary>Seeds, initialises a small MLP randomly, trains it a few steps with dropout, and returns its weights.</summary>
    private static float[] TrainedWeights(ulong seed)
    {
        using DisposeScope scope = NewDisposeScope();
        manual_seed(seed);
        Tensor w1 = (randn([6, 16]) * 0.4).requires_grad_(), w2 = (randn([16, 3]) * 0.4).requires_grad_();
        for (int step = 0; step < 5; step++)
        {
            using DisposeScope stepScope = NewDisposeScope();
            Tensor x = randn([8, 6]), y = randint(0, 3, [8]);
            Tensor hidden = F.dropout(x.mm(w1).relu(), 0.3);
            F.cross_entropy(hidden.mm(w2), y).backward();
            using (no_grad())
            {
                w1.sub_(w1.grad!, alpha: 0.1);
                w2.sub_(w2.grad!, alpha: 0.1);
            }
            w1.grad = null;
            w2.grad = null;
        }
        return [.. w1.detach().ToArray<float>(), .. w2.detach().ToArray<float>()];
    }

    [Fact]
    public void SameSeedGivesBitIdenticalRuns()
    {
        float[] first = TrainedWeights(1234);
        float[] second = TrainedWeights(1234);
        Assert.Equal(first.Select(BitConverter.SingleToInt32Bits), second.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void DifferentSeedsGiveDifferentRuns()
    {
        float[] first = TrainedWeights(1234);
        float[] other = TrainedWeights(4321);
        int differing = first.Zip(other).Count(pair => pair.First != pair.Second);
        Assert.True(differing > first.Length / 2, $"only {differing} of {first.Length} weights differ");
    }

    [Fact]
    public void EverySamplerFollowsTheSeed()
    {
        double[] Draw()
        {
            using DisposeScope scope = NewDisposeScope();
            manual_seed(7);
            Tensor[] samples =
            [
                rand([3]).@double(), randn([3]).@double(), randint(0, 100, [3]).@double(), randperm(5).@double(),
                normal(1, 2, [3], ScalarType.Float64), bernoulli(full([4], 0.5, ScalarType.Float64)),
                multinomial(ones([6], ScalarType.Float64), 3).@double(), ones([4], ScalarType.Float64).normal_().uniform_(),
            ];
            return samples.SelectMany(s => s.ToArray<double>()).ToArray();
        }
        Assert.Equal(Draw(), Draw());
    }

    [Fact]
    public void RestoringTheGeneratorStateRepeatsTheSequence()
    {
        using DisposeScope scope = NewDisposeScope();
        manual_seed(99);
        Tensor state = get_rng_state();
        float[] first = randn([5]).ToArray<float>();
        float[] next = randn([5]).ToArray<float>();
        set_rng_state(state);
        Assert.Equal(first, randn([5]).ToArray<float>());
        Assert.Equal(next, randn([5]).ToArray<float>());
        Assert.NotEqual(first, next);
    }
}
