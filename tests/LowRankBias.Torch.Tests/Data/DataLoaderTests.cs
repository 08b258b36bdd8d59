using LowRankBias.Torch.Data;
using static LowRankBias.Torch.Tests.Data.NumberedDataset;

namespace LowRankBias.Torch.Tests.Data;

// Counts live tensors (Tensor.LiveCount), a process-wide number: serial.
[Collection(SerialCollection.Name)]
public class DataLoaderTests
{
    [Fact]
    public void UnshuffledEpochVisitsSamplesInOrderWithAShortLastBatch()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Create(10);
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
        using TensorDataset data = Create(10);
        var loader = new DataLoader(data, batch_size: 4, drop_last: true);
        Assert.Equal(2, loader.Count);
        Assert.All(loader.Select(Ids), ids => Assert.Equal(4, ids.Length));
    }

    [Fact]
    public void ShuffledEpochsArePermutationsThatChangeEachEpochAndRepeatBySeed()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Create(50);
        var loader = new DataLoader(data, batch_size: 8, shuffle: true, seed: 3);
        long[] first = loader.SelectMany(Ids).ToArray();
        long[] second = loader.SelectMany(Ids).ToArray();
        Assert.Equal(Range(50), first.Order());
        Assert.Equal(Range(50), second.Order());
        Assert.NotEqual(first, second);
        Assert.NotEqual(Range(50), first);

        var again = new DataLoader(data, batch_size: 8, shuffle: true, seed: 3);
        Assert.Equal(first, again.SelectMany(Ids));
        var otherSeed = new DataLoader(data, batch_size: 8, shuffle: true, seed: 4);
        Assert.NotEqual(first, otherSeed.SelectMany(Ids));
    }

    [Fact]
    public void ResumedRunYieldsTheSameBatchesAsAnUninterruptedOne()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Create(23);
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
        using TensorDataset data = Create(12);
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
        using TensorDataset data = Create(12);
        var loader = new DataLoader(data, batch_size: 3);
        Assert.Throws<ArgumentException>(() => loader.load_state_dict(new DataLoaderState(0, 4, 0)));
        Assert.Throws<ArgumentException>(() => new DataLoader(data, batch_size: 13, drop_last: true));
    }

    [Fact]
    public void LoopingInsideAScopeLeaksNothing()
    {
        using TensorDataset data = Create(20);
        var loader = new DataLoader(data, batch_size: 6, shuffle: true);
        long before = LowRankBias.Torch.Tests.TestData.SettledLiveCount();
        using (NewDisposeScope())
            foreach (Tensor[] batch in loader) Ids(batch);
        Assert.Equal(before, Tensor.LiveCount);
    }

    [Fact]
    public void MovesBatchesToTheRequestedDevice()
    {
        using var scope = NewDisposeScope();
        using TensorDataset data = Create(4);
        Device target = cuda.is_available() ? Device.CUDA(0) : Device.CPU;
        var loader = new DataLoader(data, batch_size: 2, device: target);
        Tensor[] batch = loader.Next();
        Assert.All(batch, t => Assert.Equal(target.Type, t.device.Type));
        Assert.Equal(new long[] { 0, 1 }, batch[0].cpu().ToArray<long>());
    }
}
