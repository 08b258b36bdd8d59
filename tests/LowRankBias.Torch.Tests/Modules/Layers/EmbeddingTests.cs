using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests.Init;

namespace LowRankBias.Torch.Tests.Modules.Layers;

public class EmbeddingTests
{
    [Fact]
    public void LooksUpTheRowsOfItsTable()
    {
        using var scope = NewDisposeScope();
        using var embedding = new Embedding(5, 3, dtype: ScalarType.Float64);
        double[] table = embedding.weight.detach().ToArray<double>();
        long[,] indices = { { 4, 0, 4 }, { 2, 1, 3 } };
        Tensor output = embedding.call(tensor(indices));
        Assert.Equal(new long[] { 2, 3, 3 }, output.shape);
        double[] expected = indices.Cast<long>().SelectMany(i => table.Skip((int)i * 3).Take(3)).ToArray();
        Assert.Equal(expected, output.ToArray<double>());
    }

    [Fact]
    public void WeightIsStandardNormal()
    {
        using var scope = NewDisposeScope();
        using var embedding = new Embedding(400, 100);
        SampleStats.Of(embedding.weight.detach()).AssertMatches(0, 1);
    }

    [Fact]
    public void PaddingRowStartsAtZeroAndReceivesNoGradient()
    {
        using var scope = NewDisposeScope();
        using var embedding = new Embedding(4, 2, padding_idx: -1, dtype: ScalarType.Float64);
        Assert.Equal(3L, embedding.padding_idx);
        Assert.Equal(new double[] { 0, 0 }, embedding.weight.select(0, 3).detach().ToArray<double>());
        embedding.call(tensor(new long[] { 3, 1, 3 })).sum().backward();
        Assert.Equal(new double[] { 0, 0, 1, 1, 0, 0, 0, 0 }, embedding.weight.grad!.ToArray<double>());
    }

    [Fact]
    public void AGivenWeightIsSharedNotCopied()
    {
        using var scope = NewDisposeScope();
        using var head = new Linear(3, 6, bias: false);
        using var embedding = new Embedding(6, 3, _weight: head.weight);
        Assert.Same(head.weight, embedding.weight);
        Assert.Throws<ArgumentException>(() => new Embedding(3, 6, _weight: head.weight));
    }

    [Fact]
    public void NonIntegerIndicesAreAClearError()
    {
        using var scope = NewDisposeScope();
        using var embedding = new Embedding(4, 2);
        var error = Assert.Throws<ArgumentException>(() => embedding.call(zeros([3])));
        Assert.Contains("int64 or int32 indices", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(4, 2, padding_idx: 4));
    }
}
