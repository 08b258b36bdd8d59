using System.Runtime.CompilerServices;

namespace LowRankBias.Torch.Tests;

/// <summary>Native handles are recycled after Dispose (a per-op cost saving); these pin down that this is invisible.</summary>
[Collection(SerialCollection.Name)]
public class TensorHandleRecyclingTests
{
    [Fact]
    public void ADisposedTensorStaysDisposedWhenItsHandleIsReused()
    {
        var first = tensor(new float[] { 1, 2 });
        first.Dispose();
        using var second = tensor(new float[] { 3, 4, 5 });

        Assert.True(first.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => first.numel());
        first.Dispose();
        Assert.False(second.IsDisposed);
        Assert.Equal([3f, 4f, 5f], second.ToArray<float>());
    }

    [Fact]
    public void TensorsNeverDisposedAreFreedByTheGarbageCollector()
    {
        // Runs alone (parallelization disabled), so only this test's tensors can raise the live count.
        CollectAll();
        long before = Tensor.LiveCount;
        // Recycle a few handles first so that abandoned tensors also hold reused handles.
        for (int i = 0; i < 10; i++) tensor(new int[] { i }).Dispose();
        Abandon(200);

        CollectAll();

        Assert.True(Tensor.LiveCount <= before, $"{Tensor.LiveCount - before} abandoned tensors were not freed");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Abandon(int count)
    {
        for (int i = 0; i < count; i++) tensor(new int[] { i });
    }

    private static void CollectAll()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
