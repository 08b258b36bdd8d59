using System.Diagnostics;
using System.Globalization;
using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// `--dora [steps] [rounds]`: a DoRA training step against a LoRA one — ViT-Tiny on a batch of 128 (28×28), rank 8 on
/// every linear layer but the classifier, AdamW, the same seed and data for both — timed in interleaved rounds as CPU
/// time of this process (user + system, all threads; on a shared machine less disturbed than wall time, as in
/// <c>--quantization</c>). Prints a Markdown table of the fastest round's and the median CPU ms per step and the ratio
/// DoRA / LoRA (goal: at most 1.3).
/// </summary>
public static class DoraRunner
{
    public static void Run(int steps, int rounds)
    {
        const int batch = 128;
        var sides = new[] { false, true }.Select(dora => Step(dora, batch)).ToArray();
        try
        {
            foreach ((Action run, _) in sides)
                for (int i = 0; i < 2; i++) run(); // warm-up
            var times = sides.Select(_ => new List<double>()).ToArray();
            using var process = Process.GetCurrentProcess();
            for (int r = 0; r < rounds; r++)
                for (int s = 0; s < sides.Length; s++)
                {
                    process.Refresh();
                    TimeSpan start = process.TotalProcessorTime;
                    for (int i = 0; i < steps; i++) sides[s].run();
                    process.Refresh();
                    times[s].Add((process.TotalProcessorTime - start).TotalMilliseconds / steps);
                }
            Console.WriteLine($"ViT-Tiny training step, batch {batch}, r 8 on every linear layer but the head, {get_num_threads()} threads, {rounds} interleaved rounds of {steps} steps:");
            Console.WriteLine("| adapter | CPU ms/step, fastest round | CPU ms/step, median | × LoRA (fastest) | × LoRA (median) |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            string[] names = ["LoRA", "DoRA"];
            for (int s = 0; s < sides.Length; s++)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {names[s]} | {times[s].Min():F1} | {Median(times[s]):F1} | {times[s].Min() / times[0].Min():F3} | {Median(times[s]) / Median(times[0]):F3} |"));
        }
        finally
        {
            foreach ((_, IDisposable owned) in sides) owned.Dispose();
        }
    }

    private static (Action run, IDisposable owned) Step(bool dora, int batch)
    {
        manual_seed(0);
        var lora = new LoraModel(TrainingStepRunner.Build("vit-tiny"), new LoraConfig
        {
            r = 8, lora_alpha = 16, target_modules = ModuleSelector.AllLinear, exclude_modules = "head", use_dora = dora,
        });
        var optimizer = new AdamW(lora.parameters().Where(p => p.requires_grad));
        manual_seed(1);
        Tensor images = randn([batch, 1, 28, 28]).DetachFromDisposeScope(), labels = randint(0, 10, [batch]).DetachFromDisposeScope();
        return (() =>
        {
            using DisposeScope scope = NewDisposeScope();
            nn.functional.cross_entropy(lora.call(images), labels).backward();
            optimizer.step();
            optimizer.zero_grad();
        }, new Owned(lora, optimizer, images, labels));
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private sealed class Owned(params IDisposable[] owned) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable o in owned) o.Dispose();
        }
    }
}
