using LowRankBias.Torch.Data;

namespace LowRankBias.Torch.Tests.Data;

public class DataLoaderTests
{
    // Sample i is (i, i²), so a batch shows which samples it holds and that its fields stay paired.
    private static TensorDataset Numbered(long n)
    {
        using var scope = NewDisposeScope();
        Tensor ids = arange(n);
        return new TensorDataset(ids, ids * ids);
    }

    private static long[] Ids(Tensor[] batch)
    {
        long[] ids = batch[0].ToArray<long>();
        Assert.Equal(ids.Select(i => i * i), batch[1].ToArray<long>());
        return ids;
    }

    [Fact]
    public void UnshuffledEpochVisitsSamplesInOrderWithAShortLastBatch()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Numbered(10);
        var loader = new DataLoader(data, batch_size: 4);
        Assert.Equal(3, loader.Count);
        long[][] batches = loader.Select(Ids).ToArray();
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], batches);
        Assert.Equal(1, loader.Epoch);
    }

    [Fact]
    public void DropLastLeavesOutTheShortBatch()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Numbered(10);
        var loader = new DataLoader(data, batch_size: 4, drop_last: true);
        Assert.Equal(2, loader.Count);
        Assert.All(loader.Select(Ids), ids => Assert.Equal(4, ids.Length));
    }

    [Fact]
    public void ShuffledEpochsArePermutationsThatChangeEachEpochAndRepeatBySeed()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Numbered(50);
        var loader = new DataLoader(data, batch_size: 8, shuffle: true, seed: 3);
        long[] first = loader.SelectMany(Ids).ToArray();
        long[] second = loader.SelectMany(Ids).ToArray();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), first.Order());
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), second.Order());
        Assert.NotEqual(first, second);
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (long)i), first);

        var again = new DataLoader(data, batch_size: 8, shuffle: true, seed: 3);
        Assert.Equal(first, again.SelectMany(Ids));
        var otherSeed = new DataLoader(data, batch_size: 8, shuffle: true, seed: 4);
        Assert.NotEqual(first, otherSeed.SelectMany(Ids));
    }

    [Fact]
    public void ResumedRunYieldsTheSameBatchesAsAnUninterruptedOne()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Numbered(23);
        var uninterrupted = new DataLoader(data, batch_size: 5, shuffle: true, seed: 9);
        long[][] expected = Enumerable.Range(0, 17).Select(_ => Ids(uninterrupted.Next())).ToArray();

        var before = new DataLoader(data, batch_size: 5, shuffle: true, seed: 9);
        var got = Enumerable.Range(0, 7).Select(_ => Ids(before.Next())).ToList();
        DataLoaderState saved = before.state_dict();
        Assert.Equal(new DataLoaderState(1, 2, 9), saved); // 7 = one epoch of 5 batches + 2

        var resumed = new DataLoader(data, batch_size: 5, shuffle: true, seed: 1234);
        resumed.load_state_dict(saved);
        got.AddRange(Enumerable.Range(0, 10).Select(_ => Ids(resumed.Next())));
        Assert.Equal(expected, got);
    }

    [Fact]
    public void EnumeratingAfterResumeYieldsTheRestOfTheEpoch()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Numbered(12);
        var loader = new DataLoader(data, batch_size: 3, shuffle: true, seed: 2);
        long[][] epoch0 = loader.Select(Ids).ToArray();
        var resumed = new DataLoader(data, batch_size: 3, shuffle: true, seed: 2);
        resumed.load_state_dict(new DataLoaderState(0, 1, 2));
        Assert.Equal(epoch0[1..], resumed.Select(Ids));
    }

    [Fact]
    public void RejectsAStateThatDoesNotFitTheLoader()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Numbered(12);
        var loader = new DataLoader(data, batch_size: 3);
        Assert.Throws<ArgumentException>(() => loader.load_state_dict(new DataLoaderState(0, 4, 0)));
        Assert.Throws<ArgumentException>(() => new DataLoader(data, batch_size: 13, drop_last: true));
    }

    [Fact]
    public void LoopingInsideAScopeLeaksNothing()
    {
        using TensorDataset data = Numbered(20);
        var loader = new DataLoader(data, batch_size: 6, shuffle: true);
        long before = Tensor.LiveCount;
        using (NewDisposeScope())
            foreach (Tensor[] batch in loader) Ids(batch);
        Assert.Equal(before, Tensor.LiveCount);
    }

    [Fact]
    public void MovesBatchesToTheRequestedDevice()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Numbered(4);
        Device target = cuda.is_available() ? Device.CUDA(0) : Device.CPU;
        var loader = new DataLoader(data, batch_size: 2, device: target);
        Tensor[] batch = loader.Next();
        Assert.All(batch, t => Assert.Equal(target.Type, t.device.Type));
        Assert.Equal(new long[] { 0, 1 }, batch[0].cpu().ToArray<long>());
    }
}
