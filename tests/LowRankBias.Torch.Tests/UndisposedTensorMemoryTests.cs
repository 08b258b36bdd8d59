using LowRankBias.Torch.Models;
using LowRankBias.Torch.Optim;

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

    // The loop of a training script that scopes everything but its loss and logits (issue 30): each kept loss pins
    // its autograd graph's small nodes. With 512 KiB activations served by glibc, those nodes fragmented its heap and
    // the process grew by ~1.7 MiB a step (PyTorch 1.13 grows alike); from the caching allocator (>= 128 KiB) it does not.
    [Fact]
    public void ATrainingLoopKeepingItsLossesStaysNearTheScopedLoop()
    {
        const int steps = 400;
        using var model = new MLP(new MLP.Config { widths = [784, 512, 512, 10] });
        using var optimizer = new SGD(model.parameters(), lr: 1e-3);
        using Tensor x = torch.randn([256, 784]), y = torch.randint(0, 10, [256]);
        void Step(bool scoped)
        {
            using var scope = scoped ? torch.NewDisposeScope() : null;
            Tensor loss = nn.functional.cross_entropy(model.call(x), y); // never disposed unless scoped
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        for (int i = 0; i < 20; i++) Step(scoped: true);
        long baseline = Settle();
        for (int i = 0; i < steps; i++) Step(scoped: false);
        long growth = Environment.WorkingSet - baseline;
        Assert.True(growth < 160L << 20, $"resident memory grew by {growth >> 20} MiB over {steps} steps that kept only their losses");
    }

    // A kept loss whose graph was retained holds every activation of its step: the bytes CPU tensors hold drive the
    // collections, not just the bytes of the handles (4 for a loss).
    [Fact]
    public void RetainedGraphsOfUndisposedLossesAreCollected()
    {
        const int steps = 120; // ~8 MiB of activations a step: ~1 GiB if none were collected
        using var model = new MLP(new MLP.Config { widths = [512, 1024, 1024, 1] });
        using Tensor x = torch.randn([1024, 512]);
        long baseline = torch.cpu.memory_allocated(), peak = 0;
        for (int i = 0; i < steps; i++)
        {
            Tensor loss = model.call(x).square().mean(); // never disposed
            loss.backward(retain_graph: true);
            peak = Math.Max(peak, torch.cpu.memory_allocated() - baseline);
        }
        Assert.True(peak < Bound, $"CPU tensors held {peak >> 20} MiB more at the peak (bound {Bound >> 20} MiB)");
    }

    private static long Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Environment.WorkingSet;
    }
}
