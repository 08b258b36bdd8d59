using LowRankBias.Torch.Data;

namespace LowRankBias.Torch.Tests.Data;

// Counts live tensors (Tensor.LiveCount), a process-wide number: serial.
[Collection(SerialCollection.Name)]
public class TensorDatasetTests
{
    [Fact]
    public void GetItemsStacksTheRowsOfEveryField()
    {
        using var scope = NewDisposeScope();
        using var data = new TensorDataset(tensor(new long[] { 0, 10, 20, 30, 40 }), tensor(new float[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, [5, 2]));
        Tensor[] batch = data.GetItems(tensor(new long[] { 4, 0, 4 }));
        Assert.Equal(new long[] { 40, 0, 40 }, batch[0].ToArray<long>());
        Assert.Equal(new float[] { 8, 9, 0, 1, 8, 9 }, batch[1].ToArray<float>());
        Tensor[] one = data[2];
        Assert.Equal(20L, one[0].item<long>());
        Assert.Equal(new long[] { 2 }, one[1].shape);
        Assert.Equal(5, data.Count);
    }

    [Fact]
    public void OutlivesTheTensorsAndScopeItWasBuiltFrom()
    {
        TensorDataset data;
        using (NewDisposeScope()) data = new TensorDataset(arange(3));
        using (data)
        using (NewDisposeScope())
            Assert.Equal(new long[] { 2, 1 }, data.GetItems(tensor(new long[] { 2, 1 }))[0].ToArray<long>());
    }

    [Fact]
    public void RejectsTensorsOfDifferentLengths()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => new TensorDataset(zeros([3, 2]), zeros([4])));
        Assert.Contains("tensor 1 has 4 samples but tensor 0 has 3", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorDataset(zeros([3]))[3]);
    }

    [Fact]
    public void DisposingTheDatasetFreesItsTensors()
    {
        long before = LowRankBias.Torch.Tests.TestData.SettledLiveCount();
        using (NewDisposeScope())
        using (var data = new TensorDataset(zeros([4, 2]), arange(4)))
            data.GetItems(arange(2));
        Assert.Equal(before, Tensor.LiveCount);
    }
}
