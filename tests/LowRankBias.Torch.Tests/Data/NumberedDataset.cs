using LowRankBias.Torch.Data;

namespace LowRankBias.Torch.Tests.Data;

/// <summary>A dataset whose sample i is (i, i²), so a batch shows which samples it holds and that its fields stay paired.</summary>
internal static class NumberedDataset
{
    public static TensorDataset Create(long n)
    {
        using var scope = NewDisposeScope();
        Tensor ids = arange(n);
        return new TensorDataset(ids, ids * ids);
    }

    /// <summary>The sample numbers of a batch, after checking the second field matches.</summary>
    public static long[] Ids(Tensor[] batch)
    {
        long[] ids = batch[0].ToArray<long>();
        Assert.Equal(ids.Select(i => i * i), batch[1].ToArray<long>());
        return ids;
    }

    public static long[] Range(long n) => Enumerable.Range(0, (int)n).Select(i => (long)i).ToArray();
}
