namespace LowRankBias.Torch.Tests;

/// <summary>
/// Code that neither disposes nor uses a dispose scope must not grow without bound: the GC is told what native memory
/// each tensor holds (a budget of 256 MiB of undisposed tensors, then twice what is alive). Without that, no collection ever ran in these loops and the
/// process grew by every tensor made. Serial: they measure the process's resident memory.
/// </summary>
[Collection(SerialCollection.Name)]
public class UndisposedTensorMemoryTests
{
    // Twice the smallest budget (256 MiB), plus room for the allocator and the runtime: far below what the loops make.
    private const long Bound = 672L << 20;

    [Fact]
    public void LargeTensorsInALoopWithoutDisposeStayBounded()
    {
        const int iterations = 400; // 400 × (4 MiB + 4 MiB) = 3.2 GiB made in all
        long baseline = Settle();
        long peakGrowth = 0;
        for (int i = 0; i < iterations; i++)
        {
            Tensor a = torch.randn([1024, 1024]);
            Tensor b = a * 2; // never disposed
            if (i % 20 == 0) peakGrowth = Math.Max(peakGrowth, Environment.WorkingSet - baseline);
            GC.KeepAlive(b);
        }
        Assert.True(peakGrowth < Bound, $"resident memory grew by {peakGrowth >> 20} MiB (bound {Bound >> 20} MiB) over {iterations} iterations");
    }

    [Fact]
    public void SmallTensorsOnTwoThreadsWithoutDisposeStayBounded()
    {
        const int perThread = 100_000; // 200,000 tensors of 4 KiB (+ native overhead): 0.9 GiB made in all
        long baseline = Settle();
        long peakGrowth = 0, peakLive = 0;
        void Loop()
        {
            for (int i = 0; i < perThread; i++)
            {
                Tensor t = torch.ones([32, 32]); // never disposed
                GC.KeepAlive(t);
                if (i % 5000 == 0)
                {
                    long growth = Environment.WorkingSet - baseline, live = Tensor.LiveCount;
                    lock (this) (peakGrowth, peakLive) = (Math.Max(peakGrowth, growth), Math.Max(peakLive, live));
                }
            }
        }
        Thread[] threads = [new Thread(Loop), new Thread(Loop)];
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) thread.Join();

        Assert.True(peakGrowth < Bound, $"resident memory grew by {peakGrowth >> 20} MiB (bound {Bound >> 20} MiB)");
        Assert.True(peakLive < 150_000, $"{peakLive} tensors were alive at once");
    }

    private static long Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Environment.WorkingSet;
    }
}
