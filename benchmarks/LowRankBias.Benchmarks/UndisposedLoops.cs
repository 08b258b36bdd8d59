using System.Diagnostics;
using System.Globalization;
using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;

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

    /// <summary>
    /// Training loops (MLP 784-512-512-10 on a batch of 256, AdamW; alone and with LoRA rank 8 on every layer) that
    /// dispose everything but each step's logits and loss, beside the same loop in a dispose scope; only the loop
    /// named <paramref name="only"/> (e.g. "lora-keeps-loss") when given, so that each can start from a fresh process.
    /// </summary>
    public static void RunTraining(int steps, string? only)
    {
        Console.WriteLine("loop\tdone\trss_mib\tlive_tensors\tgen2");
        foreach (string model in new[] { "mlp", "lora" })
            foreach (bool scoped in new[] { true, false })
                if (only is null || only == LoopName(model, scoped)) TrainingLoop(model, scoped, steps);
    }

    private static string LoopName(string model, bool scoped) => $"{model}-{(scoped ? "scoped" : "keeps-loss")}";

    private static void TrainingLoop(string kind, bool scoped, int steps)
    {
        torch.manual_seed(0);
        using Tensor x = torch.randn([256, 784]), y = torch.randint(0, 10, [256]);
        Module model = new MLP(new MLP.Config { widths = [784, 512, 512, 10] });
        if (kind == "lora")
            model = new LoraModel(model, new LoraConfig { r = 8, lora_alpha = 16, target_modules = new[] { "layers.0", "layers.1", "layers.2" } });
        using var optimizer = new AdamW(model.parameters().Where(p => p.requires_grad), lr: 1e-3);
        string loop = LoopName(kind, scoped);
        for (int i = 1; i <= steps; i++)
        {
            using (scoped ? torch.NewDisposeScope() : null)
            {
                Tensor logits = model.call(x), loss = torch.nn.functional.cross_entropy(logits, y);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            if (i % Math.Max(1, steps / 4) == 0) Report(loop, i);
        }
        model.Dispose();
    }

    private static void Report(string loop, int done) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{loop}\t{done}\t{Environment.WorkingSet >> 20}\t{Tensor.LiveCount}\t{GC.CollectionCount(2)}"));
}
