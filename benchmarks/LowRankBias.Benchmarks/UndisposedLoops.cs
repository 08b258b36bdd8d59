using System.Diagnostics;
using System.Globalization;
using LowRankBias.Torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// The two loops a newcomer writes without Dispose or a dispose scope, printing resident memory and live tensors as
/// they go ("phase&lt;TAB&gt;done&lt;TAB&gt;rss MiB&lt;TAB&gt;live tensors&lt;TAB&gt;gen2 collections"): 1024×1024 tensors
/// in a loop on one thread, and 32×32 tensors on two threads. Flat columns mean the GC is told what the tensors hold.
/// </summary>
public static class UndisposedLoops
{
    /// <summary>Runs <paramref name="large"/> iterations of the first loop, <paramref name="small"/> per thread of the second.</summary>
    public static void Run(int large, int small)
    {
        Console.WriteLine("loop\tdone\trss_mib\tlive_tensors\tgen2");
        var clock = Stopwatch.StartNew();
        for (int i = 1; i <= large; i++)
        {
            Tensor a = torch.randn([1024, 1024]);
            Tensor b = a * 2;
            GC.KeepAlive(b);
            if (i % Math.Max(1, large / 10) == 0) Report("1024x1024", i);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# 1024x1024: {clock.Elapsed.TotalSeconds:F1} s"));

        clock.Restart();
        int done = 0;
        void Loop()
        {
            for (int i = 1; i <= small; i++)
            {
                Tensor a = torch.ones([32, 32]);
                Tensor b = a + a;
                GC.KeepAlive(b);
                int total = Interlocked.Increment(ref done);
                if (total % Math.Max(1, 2 * small / 10) == 0) Report("32x32x2threads", total);
            }
        }
        Thread[] threads = [new Thread(Loop), new Thread(Loop)];
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) thread.Join();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# 32x32 on two threads: {clock.Elapsed.TotalSeconds:F1} s"));
    }

    private static void Report(string loop, int done) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{loop}\t{done}\t{Environment.WorkingSet >> 20}\t{Tensor.LiveCount}\t{GC.CollectionCount(2)}"));
}
